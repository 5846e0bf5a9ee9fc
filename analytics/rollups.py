"""Roll events_raw up into the daily aggregates: set-based SQL, one transaction per day range, idempotent.

Each run deletes the aggregate rows of the days it covers and inserts them again from the raw events,
so running it twice leaves the same rows, and late events are counted when their day is re-run.
Runs as the service role (jobs and commands are never bound to a request identity).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

ORDER_COUNTS = (
    "created",
    "assigned",
    "started",
    "submitted",
    "approved",
    "rejected",
    "delivered",
    "cancelled",
    "refunded",
)
PAYMENT_COUNTS = {
    "attempts": "payment.attempted",
    "succeeded": "payment.succeeded",
    "failed": "payment.failed",
    "fallbacks": "payment.fallback",
    "refunded": "payment.refunded",
}
CALL_COUNTS = ("scheduled", "answered", "dropped", "ended")
NOTIFICATION_COUNTS = ("sent", "delivered", "opened", "clicked")


def business_timezone() -> str:
    return getattr(settings, "ANALYTICS_TIMEZONE", "Asia/Riyadh")


def listen_through_percent() -> int:
    return getattr(settings, "ANALYTICS_LISTEN_THROUGH_PERCENT", 90)


def business_today(now: dt.datetime | None = None) -> dt.date:
    return (now or timezone.now()).astimezone(ZoneInfo(business_timezone())).date()


def day_bounds(first: dt.date, last: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The UTC instants where business day `first` begins and the day after `last` begins (DST-aware)."""
    zone = ZoneInfo(business_timezone())
    start = dt.datetime.combine(first, dt.time(), tzinfo=zone)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def _counts(names: dict[str, str]) -> str:
    return ",\n".join(f"count(*) FILTER (WHERE name = '{event}') AS {column}" for column, event in names.items())


DAY = "(occurred_at AT TIME ZONE %(tz)s)::date"
WINDOW = "occurred_at >= %(start)s AND occurred_at < %(end)s"
EVENTS = f"FROM events_raw WHERE name = ANY(%(names)s) AND {WINDOW}"

TIMELINE_SQL = f"""
WITH seen AS (
  SELECT subject_id AS order_id,
         max(properties->>'service') AS service,
         max((properties->>'reader_id')::bigint) AS reader_id,
         min(occurred_at) FILTER (WHERE name = 'order.created') AS created_at,
         min(occurred_at) FILTER (WHERE name = 'order.started') AS started_at,
         min(occurred_at) FILTER (WHERE name = 'order.delivered') AS delivered_at
  {EVENTS} AND subject_id IS NOT NULL
  GROUP BY subject_id
), changed AS (
  INSERT INTO analytics_order_timeline AS t (order_id, service, reader_id, created_at, started_at, delivered_at)
  SELECT order_id, coalesce(service, ''), reader_id, created_at, started_at, delivered_at FROM seen
  ON CONFLICT (order_id) DO UPDATE SET
    service = coalesce(nullif(EXCLUDED.service, ''), t.service),
    reader_id = coalesce(EXCLUDED.reader_id, t.reader_id),
    created_at = least(t.created_at, EXCLUDED.created_at),
    started_at = least(t.started_at, EXCLUDED.started_at),
    delivered_at = least(t.delivered_at, EXCLUDED.delivered_at)
  WHERE t.created_at IS DISTINCT FROM least(t.created_at, EXCLUDED.created_at)
     OR t.started_at IS DISTINCT FROM least(t.started_at, EXCLUDED.started_at)
     OR t.delivered_at IS DISTINCT FROM least(t.delivered_at, EXCLUDED.delivered_at)
     OR t.reader_id IS DISTINCT FROM coalesce(EXCLUDED.reader_id, t.reader_id)
  RETURNING t.started_at, t.delivered_at, t.created_at
)
SELECT DISTINCT day FROM (
  SELECT (started_at AT TIME ZONE %(tz)s)::date AS day FROM changed WHERE created_at IS NOT NULL
  UNION ALL
  SELECT (delivered_at AT TIME ZONE %(tz)s)::date FROM changed WHERE created_at IS NOT NULL
) days WHERE day IS NOT NULL
"""

FULFILLMENT_SQL = f"""
INSERT INTO metrics_daily_fulfillment (day, service, reader_id, {", ".join(ORDER_COUNTS)},
                                       ttf_response_seconds, ttf_delivery_seconds)
SELECT day, service, reader_id,
       {", ".join(f"count(*) FILTER (WHERE kind = 'order.{c}')" for c in ORDER_COUNTS)},
       coalesce(array_agg(seconds ORDER BY seconds) FILTER (WHERE kind = 'ttf.response'), '{{}}'),
       coalesce(array_agg(seconds ORDER BY seconds) FILTER (WHERE kind = 'ttf.delivery'), '{{}}')
FROM (
  SELECT {DAY} AS day, coalesce(properties->>'service', '') AS service,
         (properties->>'reader_id')::bigint AS reader_id, name AS kind, NULL::int AS seconds
  {EVENTS}
  UNION ALL
  SELECT (started_at AT TIME ZONE %(tz)s)::date, service, reader_id, 'ttf.response',
         round(extract(epoch FROM started_at - created_at))::int
  FROM analytics_order_timeline
  WHERE started_at >= %(start)s AND started_at < %(end)s AND created_at IS NOT NULL
  UNION ALL
  SELECT (delivered_at AT TIME ZONE %(tz)s)::date, service, reader_id, 'ttf.delivery',
         round(extract(epoch FROM delivered_at - created_at))::int
  FROM analytics_order_timeline
  WHERE delivered_at >= %(start)s AND delivered_at < %(end)s AND created_at IS NOT NULL
) facts
GROUP BY day, service, reader_id
"""

PAYMENTS_SQL = f"""
INSERT INTO metrics_daily_payments (day, provider, country, {", ".join(PAYMENT_COUNTS)})
SELECT {DAY}, coalesce(properties->>'provider', ''), coalesce(properties->>'country', ''),
       {_counts(PAYMENT_COUNTS)}
{EVENTS}
GROUP BY 1, 2, 3
"""

CALLS_SQL = f"""
INSERT INTO metrics_daily_calls (day, reader_id, {", ".join(CALL_COUNTS)})
SELECT {DAY}, (properties->>'reader_id')::bigint, {_counts({c: f"call.{c}" for c in CALL_COUNTS})}
{EVENTS}
GROUP BY 1, 2
"""

MODERATION_SQL = """
INSERT INTO metrics_daily_moderation (day, reader_id, approved, rejected, delivered, refunded,
                                      calls_answered, calls_dropped, calls_ended)
SELECT day, reader_id, sum(approved), sum(rejected), sum(delivered), sum(refunded),
       sum(answered), sum(dropped), sum(ended)
FROM (
  SELECT day, reader_id, approved, rejected, delivered, refunded, 0 AS answered, 0 AS dropped, 0 AS ended
  FROM metrics_daily_fulfillment WHERE day BETWEEN %(first)s AND %(last)s
  UNION ALL
  SELECT day, reader_id, 0, 0, 0, 0, answered, dropped, ended
  FROM metrics_daily_calls WHERE day BETWEEN %(first)s AND %(last)s
) families
GROUP BY day, reader_id
HAVING sum(approved + rejected + delivered + refunded + answered + dropped + ended) > 0
"""

ACTOR = "CASE WHEN actor_id IS NOT NULL THEN 'u:' || actor_id ELSE 'k:' || actor_key END"
ACTIVE_SQL = f"""
INSERT INTO metrics_daily_active_actor (day, actor)
SELECT DISTINCT {DAY}, {ACTOR}
{EVENTS} AND (actor_id IS NOT NULL OR actor_key <> '')
"""

FIRST_SEEN_SQL = """
INSERT INTO metrics_actor_first_seen AS f (actor, first_day)
SELECT actor, min(day) FROM metrics_daily_active_actor WHERE day BETWEEN %(first)s AND %(last)s GROUP BY actor
ON CONFLICT (actor) DO UPDATE SET first_day = least(f.first_day, EXCLUDED.first_day)
WHERE EXCLUDED.first_day < f.first_day
"""

ENGAGEMENT_SQL = f"""
INSERT INTO metrics_daily_engagement (day, dau, sessions)
SELECT day, (SELECT count(*) FROM metrics_daily_active_actor a WHERE a.day = s.day), sessions
FROM (SELECT {DAY} AS day, count(*) AS sessions {EVENTS} GROUP BY 1) s
"""

CONTENT_SQL = f"""
INSERT INTO metrics_daily_content (day, sign, listens, listened_through)
SELECT {DAY}, properties->>'sign', count(*),
       count(*) FILTER (WHERE (properties->>'percent')::int >= %(through)s)
{EVENTS}
GROUP BY 1, 2
"""

NOTIFICATIONS_SQL = f"""
INSERT INTO metrics_daily_notifications (day, channel, campaign_id, {", ".join(NOTIFICATION_COUNTS)})
SELECT {DAY}, coalesce(properties->>'channel', ''), (properties->>'campaign_id')::bigint,
       {_counts({c: f"notification.{c}" for c in NOTIFICATION_COUNTS})}
{EVENTS}
GROUP BY 1, 2, 3
"""

# (table, insert SQL, the events it reads); tables filled from other aggregates come last.
FAMILIES = (
    ("metrics_daily_fulfillment", FULFILLMENT_SQL, [f"order.{c}" for c in ORDER_COUNTS]),
    ("metrics_daily_payments", PAYMENTS_SQL, list(PAYMENT_COUNTS.values())),
    ("metrics_daily_calls", CALLS_SQL, [f"call.{c}" for c in CALL_COUNTS]),
    ("metrics_daily_active_actor", ACTIVE_SQL, ["app.session"]),
    ("metrics_daily_engagement", ENGAGEMENT_SQL, ["app.session"]),
    ("metrics_daily_content", CONTENT_SQL, ["horoscope.listened"]),
    ("metrics_daily_notifications", NOTIFICATIONS_SQL, [f"notification.{c}" for c in NOTIFICATION_COUNTS]),
    ("metrics_daily_moderation", MODERATION_SQL, []),
)
TIMELINE_EVENTS = ["order.created", "order.started", "order.delivered"]


def _params(first: dt.date, last: dt.date, names: list[str]) -> dict:
    start, end = day_bounds(first, last)
    return {
        "tz": business_timezone(),
        "start": start,
        "end": end,
        "first": first,
        "last": last,
        "names": names,
        "through": listen_through_percent(),
    }


def _rebuild(cursor, first: dt.date, last: dt.date, families=FAMILIES) -> None:
    for table, sql, names in families:
        cursor.execute(f"DELETE FROM {table} WHERE day BETWEEN %s AND %s", [first, last])
        cursor.execute(sql, _params(first, last, names))


@transaction.atomic
def rollup_days(*, first: dt.date, last: dt.date) -> dict:
    """Recompute every daily aggregate for business days first..last (inclusive) from events_raw."""
    if last < first:
        raise ValueError("last must not be before first")
    with connection.cursor() as cursor:
        cursor.execute(TIMELINE_SQL, _params(first, last, TIMELINE_EVENTS))
        # A late order.created moves the TTF of orders started or delivered on days outside the range.
        outside = sorted(day for (day,) in cursor.fetchall() if not first <= day <= last)
        _rebuild(cursor, first, last)
        fulfillment = [f for f in FAMILIES if f[0] in ("metrics_daily_fulfillment", "metrics_daily_moderation")]
        for day in outside:
            _rebuild(cursor, day, day, fulfillment)
        cursor.execute(FIRST_SEEN_SQL, {"first": first, "last": last})
    return {"first": first.isoformat(), "last": last.isoformat(), "also": [d.isoformat() for d in outside]}


def rollup_recent(*, today: dt.date | None = None) -> dict:
    """Recompute today so far and the late-arrival window of days before it (ANALYTICS_LATE_DAYS, default 3)."""
    today = today or business_today()
    late_days = getattr(settings, "ANALYTICS_LATE_DAYS", 3)
    return rollup_days(first=today - dt.timedelta(days=late_days), last=today)


def aggregates_purge(*, today: dt.date | None = None) -> int:
    """Delete aggregate rows older than ANALYTICS_AGGREGATE_RETENTION_DAYS (default 1100)."""
    today = today or business_today()
    cutoff = today - dt.timedelta(days=getattr(settings, "ANALYTICS_AGGREGATE_RETENTION_DAYS", 1100))
    deleted = 0
    with transaction.atomic(), connection.cursor() as cursor:
        for table, _, _ in FAMILIES:
            cursor.execute(f"DELETE FROM {table} WHERE day < %s", [cutoff])
            deleted += cursor.rowcount
    return deleted
