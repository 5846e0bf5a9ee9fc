"""Events AR emits (validated by samia.events)."""

from samia.events.registry import register

# A signed URL handed out: the egress budget (M29) adds up `bytes` from events_raw.
register("ar.url_issued", 1, required=("asset_id", "bytes"), asset_id=int, bytes=int)
