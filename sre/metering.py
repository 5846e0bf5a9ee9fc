"""How much of each budgeted quantity was used: SQL over the rows other apps write.

The tables belong to other apps (notifications, marketplace, ar, events); sre reads them by name,
as the owner role in the hourly job, and a table that does not exist yet meters 0.
"""

from __future__ import annotations

import datetime as dt

from django.db import connection

# ---------------------------------------------------------------------------------------------
# Statements: each takes the month's bounds (start, end) and answers one number.

SENT_ON_CHANNEL = """
SELECT count(*) FROM notifications_send
WHERE channel = %(channel)s AND sent_at >= %(start)s AND sent_at < %(end)s
"""
# Storage is a level, not a flow: the bytes held now by media and AR assets that are not removed.
MEDIA_BYTES = "SELECT coalesce(sum(bytes), 0) FROM marketplace_mediaasset WHERE removed_at IS NULL"
AR_ASSET_BYTES = "SELECT coalesce(sum(bytes), 0) FROM ar_arasset WHERE removed_at IS NULL"
EVENT_SUM = """
SELECT coalesce(sum((properties ->> %(property)s)::bigint), 0) FROM events_raw
WHERE name = %(name)s AND occurred_at >= %(start)s AND occurred_at < %(end)s
"""

# Egress is estimated from the URLs issued (an S3 download never passes through this server): a
# caller asking again for the same asset on the same UTC day counts once, so re-requesting a link
# cannot spend the budget (and pause AR uploads) without downloading anything new.
URL_EGRESS = """
SELECT coalesce(sum(bytes), 0) FROM (
  SELECT DISTINCT ON (properties ->> 'asset_id', actor_id, actor_key, (occurred_at AT TIME ZONE 'UTC')::date)
         (properties ->> 'bytes')::bigint AS bytes
    FROM events_raw
   WHERE name = 'ar.url_issued' AND occurred_at >= %(start)s AND occurred_at < %(end)s
) AS issued
"""

# metric -> (kind, [(table it needs, statement, parameters)])
LEVEL, FLOW = "level", "flow"
METERS = {
    "sms": (FLOW, [("notifications_send", SENT_ON_CHANNEL, {"channel": "sms"})]),
    "whatsapp": (FLOW, [("notifications_send", SENT_ON_CHANNEL, {"channel": "whatsapp"})]),
    "push": (FLOW, [("notifications_send", SENT_ON_CHANNEL, {"channel": "push"})]),
    "storage_bytes": (LEVEL, [("marketplace_mediaasset", MEDIA_BYTES, {}), ("ar_arasset", AR_ASSET_BYTES, {})]),
    "egress_bytes": (FLOW, [("events_raw", URL_EGRESS, {})]),
    "translation_chars": (
        FLOW,
        [("events_raw", EVENT_SUM, {"name": "i18n.batch_translated", "property": "chars"})],
    ),
}


def month_bounds(now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The UTC month holding `now`: [first instant, first instant of the next month)."""
    now = now.astimezone(dt.UTC)
    start = dt.datetime(now.year, now.month, 1, tzinfo=dt.UTC)
    end = dt.datetime(now.year + now.month // 12, now.month % 12 + 1, 1, tzinfo=dt.UTC)
    return start, end


def meter(metric: str, *, now: dt.datetime) -> int:
    """Return the month-to-date use of `metric` (a level metric: its value now)."""
    start, end = month_bounds(now)
    total = 0
    with connection.cursor() as cursor:
        for table, statement, parameters in METERS[metric][1]:
            cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [table])
            if not cursor.fetchone()[0]:
                continue  # the app that owns it is not migrated here
            cursor.execute(statement, {**parameters, "start": start, "end": end})
            total += int(cursor.fetchone()[0] or 0)
    return total


def forecast(metric: str, actual: int, *, now: dt.datetime) -> int:
    """The month-end figure at the month-to-date run rate; a level's forecast is its value now."""
    if METERS[metric][0] == LEVEL:
        return actual
    start, end = month_bounds(now)
    elapsed = max((now - start).total_seconds(), 3600)  # the first hour does not extrapolate wildly
    return int(actual * (end - start).total_seconds() / elapsed)
