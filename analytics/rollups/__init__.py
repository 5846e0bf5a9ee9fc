"""Roll events_raw up into the daily aggregates.

sql.py holds the statements, activity.py the activity blocks (masks, windows, retention cells) and
run.py runs them: rollup_days, backfill, the nightly rollup_recent and aggregates_purge.
"""

from analytics.rollups.activity import RETENTION_WEEKS, block_mask, block_masks, day_bit
from analytics.rollups.run import (
    ROLLUP_LOCK,
    aggregates_purge,
    backfill,
    business_timezone,
    business_today,
    day_bounds,
    listen_through_percent,
    rollup_days,
    rollup_recent,
)
from analytics.rollups.sql import (
    ACTIVITY_EPOCH,
    ACTOR,
    BLOCK_DAYS,
    DIFFERENTIAL,
    FAMILIES,
    PRECOMPUTED,
    ROLLED_UP_DAYS,
    TTF_BUCKET_GROWTH,
    TTF_LINEAR_BUCKETS,
)

__all__ = [
    "ACTIVITY_EPOCH",
    "ACTOR",
    "BLOCK_DAYS",
    "DIFFERENTIAL",
    "FAMILIES",
    "PRECOMPUTED",
    "RETENTION_WEEKS",
    "ROLLED_UP_DAYS",
    "ROLLUP_LOCK",
    "TTF_BUCKET_GROWTH",
    "TTF_LINEAR_BUCKETS",
    "aggregates_purge",
    "backfill",
    "block_mask",
    "block_masks",
    "business_timezone",
    "business_today",
    "day_bit",
    "day_bounds",
    "listen_through_percent",
    "rollup_days",
    "rollup_recent",
]
