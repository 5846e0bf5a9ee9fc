"""Roll events_raw up into the daily aggregates: set-based SQL, idempotent, all or nothing per day range
(on two connections whose transactions commit together, or on the caller's: see rollup_days).

Each run deletes the aggregate rows of the days it covers and inserts them again from the raw events
(the actors' activity blocks are updated in place, only where days came or went), so running it twice
leaves the same rows, and late events are counted when their day is re-run. The nightly run re-runs
only the days of its late window whose events changed since they were rolled up (rollup_recent).
Runs as the service role (jobs and commands are never bound to a request identity).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, connections, transaction
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


def _day(column: str) -> str:
    """SQL: the business day of a UTC instant inside the run's range: a binary search among the range's
    day starts (%(starts)s, computed DST-aware by day_bounds), 3x cheaper than AT TIME ZONE per row."""
    return f"(%(first)s::date + width_bucket({column}, %(starts)s::timestamptz[]) - 1)"


DAY = _day("occurred_at")
WINDOW = "occurred_at >= %(start)s AND occurred_at < %(end)s"
EVENTS = f"FROM events_raw WHERE name = ANY(%(names)s) AND {WINDOW}"

# Upserts the timeline of the range's orders (earliest instants win) and returns the days whose TTF
# rows changed: a duration counts on the day of its end (started for TTF-Response, delivered for
# TTF-Delivery) in its (service, reader) row, so when an order's (created, end, service, reader) moved,
# the days of its old and new end both change. The `before` CTE reads the rows as they were before the
# upsert (a statement's sub-statements share one snapshot).
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
), before AS MATERIALIZED (
  SELECT t.order_id, t.service, t.reader_id, t.created_at, t.started_at, t.delivered_at
  FROM analytics_order_timeline t WHERE t.order_id IN (SELECT order_id FROM seen)
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
  RETURNING t.order_id, t.service, t.reader_id, t.created_at, t.started_at, t.delivered_at
), ends AS (
  SELECT CASE WHEN n.created_at IS NOT NULL THEN n.started_at END AS new_started,
         CASE WHEN o.created_at IS NOT NULL THEN o.started_at END AS old_started,
         CASE WHEN n.created_at IS NOT NULL THEN n.delivered_at END AS new_delivered,
         CASE WHEN o.created_at IS NOT NULL THEN o.delivered_at END AS old_delivered,
         (n.created_at, n.service, n.reader_id) IS DISTINCT FROM (o.created_at, o.service, o.reader_id) AS moved
  FROM changed n LEFT JOIN before o ON o.order_id = n.order_id
)
SELECT DISTINCT (at AT TIME ZONE %(tz)s)::date FROM (
  SELECT new_started AS at FROM ends WHERE moved OR new_started IS DISTINCT FROM old_started
  UNION ALL SELECT old_started FROM ends WHERE moved OR new_started IS DISTINCT FROM old_started
  UNION ALL SELECT new_delivered FROM ends WHERE moved OR new_delivered IS DISTINCT FROM old_delivered
  UNION ALL SELECT old_delivered FROM ends WHERE moved OR new_delivered IS DISTINCT FROM old_delivered
) days WHERE at IS NOT NULL
"""

# Counts from the events and durations from the order timeline, each grouped on its own and then put
# together: the durations' ordered arrays need a sorted aggregate, which over the events as well (a
# sort of every order event of the range) cost twice the whole statement.
FULFILLMENT_SQL = f"""
INSERT INTO metrics_daily_fulfillment (day, service, reader_id, {", ".join(ORDER_COUNTS)},
                                       ttf_response_seconds, ttf_delivery_seconds)
SELECT day, service, reader_id, {", ".join(f"sum({c})" for c in ORDER_COUNTS)},
       coalesce(max(response), '{{}}'), coalesce(max(delivery), '{{}}')
FROM (
  SELECT {DAY} AS day, coalesce(properties->>'service', '') AS service,
         (properties->>'reader_id')::bigint AS reader_id,
         {", ".join(f"count(*) FILTER (WHERE name = 'order.{c}') AS {c}" for c in ORDER_COUNTS)},
         NULL::int[] AS response, NULL::int[] AS delivery
  {EVENTS}
  GROUP BY 1, 2, 3
  UNION ALL
  SELECT day, service, reader_id, {", ".join("0" for _ in ORDER_COUNTS)},
         array_agg(seconds ORDER BY seconds) FILTER (WHERE kind = 'response'),
         array_agg(seconds ORDER BY seconds) FILTER (WHERE kind = 'delivery')
  FROM (
    SELECT {_day("started_at")} AS day, service, reader_id, 'response' AS kind,
           round(extract(epoch FROM started_at - created_at))::int AS seconds
    FROM analytics_order_timeline
    WHERE started_at >= %(start)s AND started_at < %(end)s AND created_at IS NOT NULL
    UNION ALL
    SELECT {_day("delivered_at")}, service, reader_id, 'delivery',
           round(extract(epoch FROM delivered_at - created_at))::int
    FROM analytics_order_timeline
    WHERE delivered_at >= %(start)s AND delivered_at < %(end)s AND created_at IS NOT NULL
  ) durations
  GROUP BY 1, 2, 3
) parts
GROUP BY day, service, reader_id
"""

# Buckets of the TTF histogram (analytics.models.DailyTtfHistogram): one per second below 64 s,
# then 2% wider each. In double precision: ln() of a numeric cost 5 us a duration, 90% of the statement.
TTF_LINEAR_BUCKETS = 64
TTF_BUCKET_GROWTH = 1.02
TTF_BUCKET = (
    f"CASE WHEN v < {TTF_LINEAR_BUCKETS} THEN greatest(v, 0) "
    f"ELSE {TTF_LINEAR_BUCKETS} + floor(ln(v::float8 / {TTF_LINEAR_BUCKETS}) / ln({TTF_BUCKET_GROWTH}::float8))::int END"
)
TTF_HISTOGRAM_SQL = f"""
INSERT INTO metrics_daily_ttf_histogram (day, service, kind, bucket, count)
SELECT day, service, kind, {TTF_BUCKET}, count(*)
FROM (
  SELECT day, service, 'response' AS kind, v
  FROM metrics_daily_fulfillment, unnest(ttf_response_seconds) v WHERE day BETWEEN %(first)s AND %(last)s
  UNION ALL
  SELECT day, service, 'delivery', v
  FROM metrics_daily_fulfillment, unnest(ttf_delivery_seconds) v WHERE day BETWEEN %(first)s AND %(last)s
) durations
GROUP BY 1, 2, 3, 4
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

# NULL for a session with neither a user nor an anonymous key: counted as a session, never as an actor.
ACTOR = "(CASE WHEN actor_id IS NOT NULL THEN 'u:' || actor_id ELSE 'k:' || nullif(actor_key, '') END) COLLATE \"C\""


# Monday of a date's week, in date arithmetic (1 Jan 1900 was a Monday): date_trunc('week', ...) casts each
# date to timestamptz and back, which cost more than the rest of the retention query.
def _monday(column: str) -> str:
    return f"({column} - ({column} - date '1900-01-01') %% 7)"


# Activity blocks (analytics.models.ActorActivityBlock): day n counted from ACTIVITY_EPOCH is bit n % 64
# of block n / 64.
ACTIVITY_EPOCH = dt.date(2000, 1, 3)
BLOCK_DAYS = 64
_DAY_NUMBER = f"(day - date '{ACTIVITY_EPOCH.isoformat()}')"
_BLOCK = f"{_DAY_NUMBER} / {BLOCK_DAYS}"
_DAY_BIT = f"(1::bigint << ({_DAY_NUMBER} %% {BLOCK_DAYS}))"
# The bits below the lowest bit set in a non-zero mask (mask - 1 without that bit's own, or the bigint's
# overflow when only bit 63 is set); ANDed with other bits, zero when none of them lies below it.
_BELOW_LOWEST_BIT = "(CASE WHEN {bits} = -9223372036854775808 THEN 9223372036854775807 ELSE {bits} - 1 END)"


# The day's engagement row: distinct actors (DAU) and sessions.
ENGAGEMENT_SQL = f"""
INSERT INTO metrics_daily_engagement (day, dau, sessions)
SELECT day, count(actor), sum(sessions)
FROM (SELECT {DAY} AS day, {ACTOR} AS actor, count(*) AS sessions {EVENTS} GROUP BY 1, 2) per_actor
GROUP BY day
"""

# Differential: the late-window days are mostly unchanged on each re-run, so only the actor-blocks whose
# days came or went are written, and the same rows move first days earlier. %(blocks)s are the blocks the
# range reaches, %(masks)s the range's days in each.
ACTIVE_SQL = f"""
WITH fresh AS (
  SELECT {_BLOCK} AS block, actor, bit_or({_DAY_BIT}) AS days, min(day) AS first_day
  FROM (SELECT {DAY} AS day, {ACTOR} AS actor {EVENTS}) sessions
  WHERE actor IS NOT NULL GROUP BY 1, 2
), stored AS (
  -- every actor-block of the range's blocks (by the index), with its row's address and its days in the range
  SELECT b.ctid AS address, b.block, b.actor, b.days & r.mask AS days
  FROM metrics_actor_activity_block b JOIN unnest(%(blocks)s::int[], %(masks)s::bigint[]) AS r(block, mask)
    ON r.block = b.block
  WHERE b.block = ANY(%(blocks)s::int[])
), changed AS MATERIALIZED (
  -- one join finds the rows to write, the days that came and the days that went, per actor and block
  SELECT s.address, coalesce(f.block, s.block) AS block, coalesce(f.actor, s.actor) AS actor, f.first_day,
         coalesce(f.days, 0) & ~coalesce(s.days, 0) AS came, coalesce(s.days, 0) & ~coalesce(f.days, 0) AS went
  FROM fresh f FULL JOIN stored s ON s.block = f.block AND s.actor = f.actor
  WHERE coalesce(f.days, 0) <> coalesce(s.days, 0)
), updated AS (
  -- the actor-blocks that exist take their days that came and lose those that went, found by their
  -- address (rollups are serialized by ROLLUP_LOCK: no other statement moves them meanwhile)
  UPDATE metrics_actor_activity_block b SET days = (b.days & ~c.went) | c.came
  FROM changed c
  WHERE b.ctid = c.address AND b.block = ANY(%(blocks)s::int[])  -- the blocks' rows, never the whole table
  RETURNING b.actor, c.first_day, c.came, b.days
), inserted AS (
  -- the others are new (no ON CONFLICT: rollups are serialized); run though nothing reads it
  INSERT INTO metrics_actor_activity_block (block, actor, days)
  SELECT block, actor, came FROM changed c WHERE c.address IS NULL ORDER BY 1, 2
), earliest AS (
  -- Actors whose earliest day in a block is one that came: new in the block, or with no earlier day in
  -- it. Only they can have a first day that moved earlier; the others keep it without a lookup. first_day
  -- is the earliest of the range's days in the block, stored before or not: a stored day is never before
  -- the recorded first day, so the least of the two is the same. (A block where an actor had an earlier
  -- day cannot hold a day before its first day either.)
  SELECT c.actor, c.first_day FROM changed c WHERE c.address IS NULL
  UNION ALL SELECT actor, first_day FROM updated
  WHERE came <> 0 AND days & ~came & {_BELOW_LOWEST_BIT.format(bits="came")} = 0
), seen AS (
  SELECT actor, min(first_day) AS first_day FROM earliest GROUP BY actor
), upserted AS (
  INSERT INTO metrics_actor_first_seen AS f (actor, first_day)
  SELECT actor, first_day FROM seen s  -- skip the known actors first: a conflicting insert locks the row
  -- a lookup per candidate (a subplan, never a join: the table holds every actor ever seen)
  WHERE s.first_day < coalesce((SELECT k.first_day FROM metrics_actor_first_seen k WHERE k.actor = s.actor), 'infinity')
  ON CONFLICT (actor) DO UPDATE SET first_day = least(f.first_day, EXCLUDED.first_day)
  WHERE EXCLUDED.first_day < f.first_day
  -- the subquery reads the statement's snapshot: the first day before the update (NULL for a new actor)
  RETURNING f.first_day AS new_day, (SELECT o.first_day FROM metrics_actor_first_seen o WHERE o.actor = f.actor) AS old_day
)
-- the cohorts (signup weeks) that actors whose first day moved earlier left and joined (backfills, late events)
SELECT {_monday("old_day")} FROM upserted WHERE old_day IS NOT NULL
UNION SELECT {_monday("new_day")} FROM upserted WHERE old_day IS NOT NULL
"""
ROLLUP_LOCK = "analytics.rollup"
# Tables whose SQL replaces the range's rows itself (no DELETE first; no day column).
DIFFERENTIAL = {"metrics_actor_activity_block"}


# Retention cells: per (actor, cohort week, activity week) the actor's first active day in that week,
# counted per day. Filled for the activity weeks overlapping the run, and for whole cohorts that moved.
# {firsts} gives each actor's first active day of the week %(week)s (_week_firsts).
RETENTION_SQL = f"""
WITH firsts AS MATERIALIZED ({{firsts}})
INSERT INTO metrics_retention_cohort (cohort_week, week_n, day, actors)
SELECT {_monday("f.first_day")}, (%(week)s::date - {_monday("f.first_day")}) / 7, a.day, count(*)
FROM firsts a JOIN metrics_actor_first_seen f ON f.actor = a.actor AND a.day >= f.first_day
WHERE a.day >= %(since)s AND (%(week)s::date - {_monday("f.first_day")}) / 7 <= %(weeks)s {{cohorts}}
GROUP BY 1, 2, 3
"""
RETENTION_WEEKS = 12
RETENTION_IN_COHORTS = "AND " + _monday("f.first_day") + " = ANY(%(cohorts)s)"


def day_bit(day: dt.date) -> tuple[int, int]:
    """The activity block of a day, and the day's bit in it as a signed bigint."""
    number = (day - ACTIVITY_EPOCH).days
    return number // BLOCK_DAYS, _signed(1 << number % BLOCK_DAYS)


def _week_firsts(monday: dt.date, since: dt.date = dt.date.min) -> str:
    """SQL: (actor, day) for each actor active in the week of `monday` on a day from `since` on, day its
    first active day of that week (which may be before `since`).

    One pass over the one or two activity blocks the week falls in (joined per actor when the week
    straddles two), a bit test per day of the week."""
    days = [monday + dt.timedelta(days=i) for i in range(7)]
    blocks = sorted({day_bit(day)[0] for day in days})
    columns = ["days"] if len(blocks) == 1 else ["lo", "hi"]
    first = " ".join(
        f"WHEN {columns[blocks.index(day_bit(day)[0])]} & {day_bit(day)[1]} <> 0 THEN date '{day.isoformat()}'"
        for day in days
    )
    late = [block_mask(max(monday, since), days[-1], block) for block in blocks]
    # days of the week before `since`: an actor active on one of them has its first day before `since`
    early = [block_mask(monday, since - dt.timedelta(days=1), block) if since > monday else 0 for block in blocks]

    def rows(block: int) -> str:
        mask = block_mask(monday, days[-1], block)
        return f"SELECT actor, days FROM metrics_actor_activity_block WHERE block = {block} AND days & {mask} <> 0"

    if len(blocks) == 1:
        source = f"({rows(blocks[0])} AND days & {late[0]} <> 0 AND days & {early[0]} = 0) w"
    else:
        source = (
            "(SELECT coalesce(l.actor, h.actor) AS actor, coalesce(l.days, 0) AS lo, coalesce(h.days, 0) AS hi "
            f"FROM ({rows(blocks[0])}) l FULL JOIN ({rows(blocks[1])}) h ON h.actor = l.actor "
            f"WHERE (coalesce(l.days, 0) & {late[0]} <> 0 OR coalesce(h.days, 0) & {late[1]} <> 0) "
            f"AND coalesce(l.days, 0) & {early[0]} = 0 AND coalesce(h.days, 0) & {early[1]} = 0) w"
        )
    return f"SELECT actor, CASE {first} END AS day FROM {source}"


# Days per windows query: with the 29 days before them, a chunk spans at most two activity blocks.
WINDOW_CHUNK_DAYS = 31
WINDOW_SPANS = (1, 7, 30)


def _signed(bits: int) -> int:
    """A 64-bit mask as the bigint Postgres stores (bit 63 is the sign bit)."""
    return bits - (1 << 64) if bits >= 1 << 63 else bits


def block_mask(first: dt.date, last: dt.date, block: int) -> int:
    """The bits of the days first..last that fall in `block`, as a signed bigint (0 if none)."""
    low, high = (first - ACTIVITY_EPOCH).days, (last - ACTIVITY_EPOCH).days
    low, high = max(low, block * BLOCK_DAYS), min(high, block * BLOCK_DAYS + BLOCK_DAYS - 1)
    return _signed(sum(1 << (n % BLOCK_DAYS) for n in range(low, high + 1)))


def block_masks(first: dt.date, last: dt.date) -> dict[int, int]:
    """Every block that first..last reaches, with the range's days in it (block_mask)."""
    return {block: block_mask(first, last, block) for block in range(day_bit(first)[0], day_bit(last)[0] + 1)}


def _windows(cursor, first: dt.date, last: dt.date) -> None:
    """Store DAU, WAU and MAU for first..last and the 29 days after it that already have activity.

    Read from the actors' activity blocks: per chunk of days, one pass over the one or two blocks its
    windows reach (the chunk and the 29 days before it), a row per actor and block."""
    cursor.execute("SELECT max(day) FROM metrics_daily_engagement WHERE day > %s AND dau > 0", [last])
    (top,) = cursor.fetchone()
    high = max(last, min(last + dt.timedelta(days=29), top or last))
    cursor.execute("DELETE FROM metrics_daily_active_users WHERE day BETWEEN %s AND %s", [first, high])
    start = first
    while start <= high:
        days = [start + dt.timedelta(days=i) for i in range(min(WINDOW_CHUNK_DAYS, (high - start).days + 1))]
        low_block = (start - dt.timedelta(days=WINDOW_SPANS[-1] - 1) - ACTIVITY_EPOCH).days // BLOCK_DAYS
        high_block = (days[-1] - ACTIVITY_EPOCH).days // BLOCK_DAYS
        assert high_block - low_block <= 1, "a chunk of windows spans at most two blocks"
        counts = []
        for day in days:
            for span in WINDOW_SPANS:
                since = day - dt.timedelta(days=span - 1)
                lo, hi = block_mask(since, day, low_block), block_mask(since, day, high_block)
                tests = [f"lo & {lo} <> 0"] if lo else []
                tests += [f"hi & {hi} <> 0"] if hi and high_block != low_block else []
                counts.append(f"count(*) FILTER (WHERE {' OR '.join(tests)})")
        # one row per actor: its bits in the low block and in the high block (the same block: hi unused)
        cursor.execute(
            f"SELECT {', '.join(counts)} FROM ("
            "  SELECT coalesce(l.days, 0) AS lo, coalesce(h.days, 0) AS hi"
            "  FROM (SELECT actor, days FROM metrics_actor_activity_block WHERE block = %(low)s) l"
            "  FULL JOIN (SELECT actor, days FROM metrics_actor_activity_block WHERE block = %(high)s"
            "             AND block <> %(low)s) h ON h.actor = l.actor"
            ") actors",
            {"low": low_block, "high": high_block},
        )
        row = cursor.fetchone()
        cursor.executemany(
            "INSERT INTO metrics_daily_active_users (day, dau, wau, mau) VALUES (%s, %s, %s, %s)",
            [(d, *row[3 * i : 3 * i + 3]) for i, d in enumerate(days)],
        )
        start = days[-1] + dt.timedelta(days=1)


def _retention(cursor, first: dt.date, last: dt.date, moved: list[dt.date]) -> None:
    """Recompute the retention cells from `first` to the end of the week of `last`, and the moved cohorts.

    A cell's day is an actor's first active day of a week, so cells before `first` keep their actors
    (their earlier days did not change); those of the cohorts that gained or lost actors are redone whole."""
    week_first = first - dt.timedelta(days=first.weekday())
    week_last = last + dt.timedelta(days=6 - last.weekday())
    cursor.execute("DELETE FROM metrics_retention_cohort WHERE day BETWEEN %s AND %s", [first, week_last])
    # a week's actors against their first days: a hash join (the planner, estimating from the CTE, would
    # look each actor up: 2.6x slower at 190k actors)
    cursor.execute("SET LOCAL enable_nestloop = off")
    params = {"since": first, "weeks": RETENTION_WEEKS}
    for week in _mondays(week_first, week_last):
        cursor.execute(RETENTION_SQL.format(firsts=_week_firsts(week, first), cohorts=""), {**params, "week": week})
    if moved:
        cursor.execute("DELETE FROM metrics_retention_cohort WHERE cohort_week = ANY(%s)", [moved])
        cursor.execute("SELECT max(day) FROM metrics_daily_engagement WHERE day > %s AND dau > 0", [last])
        (top,) = cursor.fetchone()
        until = min(max(moved) + dt.timedelta(weeks=RETENTION_WEEKS), max(top or last, last))
        params = {"since": dt.date.min, "weeks": RETENTION_WEEKS, "cohorts": moved}
        for week in _mondays(min(moved), until):
            sql = RETENTION_SQL.format(firsts=_week_firsts(week), cohorts=RETENTION_IN_COHORTS)
            cursor.execute(sql, {**params, "week": week})
    cursor.execute("SET LOCAL enable_nestloop TO DEFAULT")


def _mondays(first: dt.date, last: dt.date) -> list[dt.date]:
    """The Mondays of the weeks that first..last overlaps."""
    monday = first - dt.timedelta(days=first.weekday())
    return [monday + dt.timedelta(weeks=n) for n in range((last - monday).days // 7 + 1)]


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
    ("metrics_daily_ttf_histogram", TTF_HISTOGRAM_SQL, []),
    ("metrics_daily_payments", PAYMENTS_SQL, list(PAYMENT_COUNTS.values())),
    ("metrics_daily_calls", CALLS_SQL, [f"call.{c}" for c in CALL_COUNTS]),
    ("metrics_daily_engagement", ENGAGEMENT_SQL, ["app.session"]),
    ("metrics_actor_activity_block", ACTIVE_SQL, ["app.session"]),
    ("metrics_daily_content", CONTENT_SQL, ["horoscope.listened"]),
    ("metrics_daily_notifications", NOTIFICATIONS_SQL, [f"notification.{c}" for c in NOTIFICATION_COUNTS]),
    ("metrics_daily_moderation", MODERATION_SQL, []),
)
# Filled from the activity blocks after the families: the engagement windows and the retention matrix.
PRECOMPUTED = ("metrics_daily_active_users", "metrics_retention_cohort")
# The two halves of a rollup, which share no table: the activity half (sessions, blocks, then the windows
# and retention cells from the blocks) and the rest, read from the events and the order timeline.
ACTIVITY_FAMILIES = tuple(f for f in FAMILIES if f[0] == "metrics_actor_activity_block")
EVENT_FAMILIES = tuple(f for f in FAMILIES if f not in ACTIVITY_FAMILIES)
FULFILLMENT_FAMILIES = tuple(
    f
    for f in FAMILIES
    if f[0] in ("metrics_daily_fulfillment", "metrics_daily_ttf_histogram", "metrics_daily_moderation")
)
# What each day was last rolled up from (analytics.models.RolledUpDay).
ROLLED_UP_DAYS = "analytics_rolled_up_day"
TIMELINE_EVENTS = ["order.created", "order.started", "order.delivered"]


def _params(first: dt.date, last: dt.date, names: list[str]) -> dict:
    start, end = day_bounds(first, last)
    return {
        "starts": [day_bounds(first + dt.timedelta(days=n), last)[0] for n in range((last - first).days + 1)],
        "tz": business_timezone(),
        "start": start,
        "end": end,
        "first": first,
        "last": last,
        "names": names,
        "through": listen_through_percent(),
    }


def _rebuild(cursor, first: dt.date, last: dt.date, families=FAMILIES) -> list[dt.date]:
    """Refill the families' rows of first..last; returns the retention cohorts that actors moved between."""
    moved: list[dt.date] = []
    for table, sql, names in families:
        if table not in DIFFERENTIAL:
            cursor.execute(f"DELETE FROM {table} WHERE day BETWEEN %s AND %s", [first, last])
        if sql is ACTIVE_SQL:
            # Its join pairs tens of thousands of actor-blocks that the planner, estimating from CTEs,
            # takes for a few hundred: a merge join sorts both sides (0.45 s against 0.1 s for a new day).
            # The lookups it must make per row (blocks by address, first days) are nested loops and subplans.
            cursor.execute("SET LOCAL enable_mergejoin = off")
            masks = block_masks(first, last)
            params = {**_params(first, last, names), "blocks": list(masks), "masks": list(masks.values())}
            cursor.execute(sql, params)
            moved = sorted(week for (week,) in cursor.fetchall())
            cursor.execute("SET LOCAL enable_mergejoin TO DEFAULT")
        elif sql:
            cursor.execute(sql, _params(first, last, names))
    return moved


# A business day's events and a fingerprint of them: their count, and two XORs over their ids (the ids
# themselves and a hash of each). Any event added to the day or taken from it changes the count or an
# XOR; a day that lost some events and gained as many others keeps all three only by a contrived
# coincidence. One index-only range scan per day (events_raw_occurred_id_idx): no per-row day arithmetic.
FINGERPRINT_DAY_SQL = (
    "SELECT %s::date, count(*), bit_xor(id), bit_xor(hashint8(id)) FROM events_raw "
    "WHERE occurred_at >= %s AND occurred_at < %s"
)


def _rollup_config() -> str:
    """What besides its events a day's aggregates depend on: the business timezone, the listen-through
    threshold and the rollup SQL itself, so that a changed setting or formula makes every day changed."""
    texts = [TIMELINE_SQL, RETENTION_SQL, _week_firsts(ACTIVITY_EPOCH), ACTOR, *(sql for _, sql, _ in FAMILIES if sql)]
    texts += [business_timezone(), str(listen_through_percent())]
    return hashlib.sha256("\x00".join(texts).encode()).hexdigest()[:32]


def _fingerprints(cursor, first: dt.date, last: dt.date) -> dict[dt.date, tuple[int, str]]:
    """Per day of first..last: (events, fingerprint), the fingerprint also covering _rollup_config()."""
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    params = [value for day in days for value in (day, *day_bounds(day, day))]
    cursor.execute(" UNION ALL ".join([FINGERPRINT_DAY_SQL] * len(days)), params)
    config = _rollup_config()
    return {
        day: (events, hashlib.sha256(f"{events}:{ids}:{hashes}:{config}".encode()).hexdigest()[:32])
        for day, events, ids, hashes in sorted(cursor.fetchall())  # in day order (a parallel plan mixes them)
    }


def _days(first: dt.date, last: dt.date) -> list[str]:
    return [(first + dt.timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]


class _Companion:
    """One half of a rollup on a second connection, alongside the caller's half on its own.

    The work runs in a transaction of its own on a thread (Django gives each thread its own connection),
    then waits for the caller's verdict: it commits when the caller's half succeeded and rolls back
    otherwise. finish() hands the verdict over, waits for the thread and raises what the work raised, so
    the caller rolls back its own half too. Nothing is committed unless both halves ran to the end."""

    def __init__(self, work):
        self._work = work
        self._verdict = threading.Event()
        self._commit = False
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="analytics-rollup-companion", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                self._work(cursor)
                self._verdict.wait()
                if not self._commit:
                    raise _Withdrawn
        except _Withdrawn:
            pass
        except BaseException as error:  # handed to the caller by finish()
            self._error = error
        finally:
            connections.close_all()  # this thread's connections only

    def finish(self, *, commit: bool) -> None:
        self._commit = commit
        self._verdict.set()
        self._thread.join()
        if self._error is not None and commit:
            raise self._error


class _Withdrawn(Exception):
    """The caller's half failed: the companion rolls back."""


def _session_settings(cursor) -> None:
    # Short set-based statements: JIT compilation cost more than it saved (81 of 133 ms on the DAU query
    # at 500k events, triggered by cost estimates inflated by the per-day subqueries). A month's sessions
    # fit in work_mem without spilling to disk.
    cursor.execute("SET LOCAL jit = off")
    cursor.execute("SET LOCAL work_mem = '256MB'")


def _activity(cursor, first: dt.date, last: dt.date) -> None:
    """The activity half of a rollup: the activity blocks and first days from the sessions, then the
    windows and the retention cells read from the blocks. Shares no table with the other half."""
    moved = _rebuild(cursor, first, last, ACTIVITY_FAMILIES)
    _windows(cursor, first, last)
    _retention(cursor, first, last, moved)


def rollup_days(*, first: dt.date, last: dt.date, changed_only: bool = False) -> dict:
    """Recompute every daily aggregate for business days first..last (inclusive) from events_raw.

    With changed_only (the nightly run), days whose fingerprint equals the one recorded when they were
    last rolled up are left as they are: the run covers the first to the last changed day. Returns the
    days asked for, those recomputed, and those whose TTF moved outside them.

    Called outside a transaction (the nightly job, the backfill command), the activity half runs on a
    second connection alongside the rest (ANALYTICS_ROLLUP_CONNECTIONS, default 2); inside a caller's
    transaction everything runs on the caller's connection, which alone sees what that transaction wrote."""
    if last < first:
        raise ValueError("last must not be before first")
    split = not connection.in_atomic_block and getattr(settings, "ANALYTICS_ROLLUP_CONNECTIONS", 2) > 1
    with transaction.atomic():
        return _rollup_days(first, last, changed_only=changed_only, split=split)


def _rollup_days(first: dt.date, last: dt.date, *, changed_only: bool, split: bool) -> dict:
    asked = {"first": first.isoformat(), "last": last.isoformat()}
    with connection.cursor() as cursor:
        # One rollup at a time (the nightly job, a backfill, a manual run): each reads what the previous one
        # committed, and the differential writes below need no ON CONFLICT.
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [ROLLUP_LOCK])
        # Taken before any aggregate reads the events: an event committed later is missing from the
        # recorded fingerprint too, so the next run sees its day as changed.
        prints = _fingerprints(cursor, first, last)
        if changed_only:
            cursor.execute(f"SELECT day, fingerprint FROM {ROLLED_UP_DAYS} WHERE day BETWEEN %s AND %s", [first, last])
            recorded = dict(cursor.fetchall())
            changed = sorted(day for day, (_, fingerprint) in prints.items() if recorded.get(day) != fingerprint)
            if not changed:
                return {**asked, "rolled": [], "also": []}
            first, last = changed[0], changed[-1]
        _session_settings(cursor)
        companion = None
        if split:

            def activity(other) -> None:
                _session_settings(other)
                _activity(other, first, last)

            companion = _Companion(activity)
        try:
            cursor.execute(TIMELINE_SQL, _params(first, last, TIMELINE_EVENTS))
            # A late order event can move an order's TTF from or to a day outside the range (its old or new end).
            outside = sorted(day for (day,) in cursor.fetchall() if not first <= day <= last)
            _rebuild(cursor, first, last, EVENT_FAMILIES)
            for day in outside:
                _rebuild(cursor, day, day, FULFILLMENT_FAMILIES)
            if companion is None:
                _activity(cursor, first, last)
            cursor.executemany(
                f"INSERT INTO {ROLLED_UP_DAYS} (day, events, fingerprint, rolled_at) VALUES (%s, %s, %s, now()) "
                "ON CONFLICT (day) DO UPDATE SET events = EXCLUDED.events, fingerprint = EXCLUDED.fingerprint, "
                "rolled_at = EXCLUDED.rolled_at",
                [(day, *prints[day]) for day in prints if first <= day <= last],
            )
        except BaseException:
            if companion is not None:
                companion.finish(commit=False)
            raise
        if companion is not None:
            companion.finish(commit=True)
    return {**asked, "rolled": _days(first, last), "also": [d.isoformat() for d in outside]}


def backfill(*, first: dt.date, last: dt.date, chunk_days: int = 7, on_chunk=None) -> int:
    """Recompute first..last in transactions of `chunk_days` days (the backfill command's path).

    A week per transaction: the 30-day windows are computed once per chunk instead of once per
    day, and each transaction stays small enough not to hold back vacuum for long.
    """
    day, done = first, 0
    while day <= last:
        end = min(last, day + dt.timedelta(days=max(1, chunk_days) - 1))
        rollup_days(first=day, last=end)
        days = (end - day).days + 1
        done += days
        if on_chunk:
            on_chunk(days)
        day = end + dt.timedelta(days=1)
    return done


def rollup_recent(*, today: dt.date | None = None) -> dict:
    """Recompute today so far and the days of the late-arrival window before it (ANALYTICS_LATE_DAYS,
    default 3) whose events changed since they were last rolled up."""
    today = today or business_today()
    late_days = getattr(settings, "ANALYTICS_LATE_DAYS", 3)
    return rollup_days(first=today - dt.timedelta(days=late_days), last=today, changed_only=True)


def aggregates_purge(*, today: dt.date | None = None) -> int:
    """Delete aggregate rows older than ANALYTICS_AGGREGATE_RETENTION_DAYS (default 1100)."""
    today = today or business_today()
    cutoff = today - dt.timedelta(days=getattr(settings, "ANALYTICS_AGGREGATE_RETENTION_DAYS", 1100))
    deleted = 0
    with transaction.atomic(), connection.cursor() as cursor:
        for table in (
            [table for table, _, _ in FAMILIES if table not in DIFFERENTIAL] + list(PRECOMPUTED) + [ROLLED_UP_DAYS]
        ):
            cursor.execute(f"DELETE FROM {table} WHERE day < %s", [cutoff])
            deleted += cursor.rowcount
        # whole blocks before the cutoff's block (the windows never reach back that far)
        cursor.execute(
            "DELETE FROM metrics_actor_activity_block WHERE block < %s",
            [(cutoff - ACTIVITY_EPOCH).days // BLOCK_DAYS],
        )
        deleted += cursor.rowcount
    return deleted
