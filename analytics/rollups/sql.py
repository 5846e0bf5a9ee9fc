"""The rollup's SQL: named statements and the builders of their fragments, run by analytics.rollups.run.

Each statement reads one window of events_raw (or the aggregates filled before it) and inserts the rows
of the days %(first)s..%(last)s; the run deletes those rows first (the DIFFERENTIAL tables' statements
replace their rows themselves). The fingerprint of every rolled-up day
covers the statements' text (run._rollup_config), so a changed formula makes every day changed.
"""

import datetime as dt

from django.conf import settings

from analytics.models import CALL_COUNTS, NOTIFICATION_COUNTS, ORDER_COUNTS, REFUND_COUNTS

# The event each payments column counts; `fallbacks` counts the payment.failed events whose payment was
# retried on another provider (PAYMENTS_SQL).
PAYMENT_EVENTS = {
    "attempts": "payment.attempted",
    "succeeded": "payment.succeeded",
    "failed": "payment.failed",
    "refunded": "payment.refunded",
}


#
# Fragments: a window of events, the business day of an instant, one count per event name
#


def _counts(names: dict[str, str]) -> str:
    return ",\n".join(f"count(*) FILTER (WHERE name = '{event}') AS {column}" for column, event in names.items())


def _day(column: str) -> str:
    """SQL: the business day of a UTC instant inside the run's range: a binary search among the range's
    day starts (%(starts)s, computed DST-aware by day_bounds), 3x cheaper than AT TIME ZONE per row."""
    return f"(%(first)s::date + width_bucket({column}, %(starts)s::timestamptz[]) - 1)"


DAY = _day("occurred_at")
WINDOW = "occurred_at >= %(start)s AND occurred_at < %(end)s"
EVENTS = f"FROM events_raw WHERE name = ANY(%(names)s) AND {WINDOW}"


#
# Order timeline and fulfillment (counts, TTF durations, the TTF histogram)
#

# Upserts the timeline of the range's orders (earliest instants win) and returns the days whose fulfillment
# rows changed outside the order events of those days: a TTF duration counts on the day of its end
# (started for TTF-Response, delivered for TTF-Delivery) in its (service, reader) row, so when an order's
# (created, end, service, reader) moved, the days of its old and new end both change; a refund counts on
# the day its order was delivered or cancelled, so when a refunded order's refund, delivery or
# cancellation moved, those days change. The `before` CTE reads the rows as they were before the upsert
# (a statement's sub-statements share one snapshot).
TIMELINE_SQL = f"""
WITH seen AS (
  SELECT subject_id AS order_id,
         max(properties->>'service') AS service,
         max((properties->>'reader_id')::bigint) AS reader_id,
         min(occurred_at) FILTER (WHERE name = 'order.created') AS created_at,
         min(occurred_at) FILTER (WHERE name = 'order.started') AS started_at,
         min(occurred_at) FILTER (WHERE name = 'order.delivered') AS delivered_at,
         min(occurred_at) FILTER (WHERE name = 'order.cancelled') AS cancelled_at,
         min(occurred_at) FILTER (WHERE name = 'order.refunded') AS refunded_at
  {EVENTS} AND subject_id IS NOT NULL
  GROUP BY subject_id
), before AS MATERIALIZED (
  SELECT t.order_id, t.service, t.reader_id, t.created_at, t.started_at, t.delivered_at, t.cancelled_at, t.refunded_at
  FROM analytics_order_timeline t WHERE t.order_id IN (SELECT order_id FROM seen)
), changed AS (
  INSERT INTO analytics_order_timeline AS t (order_id, service, reader_id, created_at, started_at, delivered_at,
                                             cancelled_at, refunded_at)
  SELECT order_id, coalesce(service, ''), reader_id, created_at, started_at, delivered_at, cancelled_at, refunded_at
  FROM seen
  ON CONFLICT (order_id) DO UPDATE SET
    service = coalesce(nullif(EXCLUDED.service, ''), t.service),
    reader_id = coalesce(EXCLUDED.reader_id, t.reader_id),
    created_at = least(t.created_at, EXCLUDED.created_at),
    started_at = least(t.started_at, EXCLUDED.started_at),
    delivered_at = least(t.delivered_at, EXCLUDED.delivered_at),
    cancelled_at = least(t.cancelled_at, EXCLUDED.cancelled_at),
    refunded_at = least(t.refunded_at, EXCLUDED.refunded_at)
  WHERE t.created_at IS DISTINCT FROM least(t.created_at, EXCLUDED.created_at)
     OR t.started_at IS DISTINCT FROM least(t.started_at, EXCLUDED.started_at)
     OR t.delivered_at IS DISTINCT FROM least(t.delivered_at, EXCLUDED.delivered_at)
     OR t.cancelled_at IS DISTINCT FROM least(t.cancelled_at, EXCLUDED.cancelled_at)
     OR t.refunded_at IS DISTINCT FROM least(t.refunded_at, EXCLUDED.refunded_at)
     OR t.reader_id IS DISTINCT FROM coalesce(EXCLUDED.reader_id, t.reader_id)
  RETURNING t.order_id, t.service, t.reader_id, t.created_at, t.started_at, t.delivered_at, t.cancelled_at,
            t.refunded_at
), ends AS (
  SELECT CASE WHEN n.created_at IS NOT NULL THEN n.started_at END AS new_started,
         CASE WHEN o.created_at IS NOT NULL THEN o.started_at END AS old_started,
         CASE WHEN n.created_at IS NOT NULL THEN n.delivered_at END AS new_delivered,
         CASE WHEN o.created_at IS NOT NULL THEN o.delivered_at END AS old_delivered,
         (n.created_at, n.service, n.reader_id) IS DISTINCT FROM (o.created_at, o.service, o.reader_id) AS moved,
         -- a refunded order (now or before) whose refund, delivery, cancellation, service or reader changed
         CASE WHEN n.refunded_at IS NOT NULL OR o.refunded_at IS NOT NULL THEN n.delivered_at END AS refunded_new_delivered,
         CASE WHEN n.refunded_at IS NOT NULL OR o.refunded_at IS NOT NULL THEN o.delivered_at END AS refunded_old_delivered,
         CASE WHEN n.refunded_at IS NOT NULL OR o.refunded_at IS NOT NULL THEN n.cancelled_at END AS refunded_new_cancelled,
         CASE WHEN n.refunded_at IS NOT NULL OR o.refunded_at IS NOT NULL THEN o.cancelled_at END AS refunded_old_cancelled
  FROM changed n LEFT JOIN before o ON o.order_id = n.order_id
)
SELECT DISTINCT (at AT TIME ZONE %(tz)s)::date FROM (
  SELECT new_started AS at FROM ends WHERE moved OR new_started IS DISTINCT FROM old_started
  UNION ALL SELECT old_started FROM ends WHERE moved OR new_started IS DISTINCT FROM old_started
  UNION ALL SELECT new_delivered FROM ends WHERE moved OR new_delivered IS DISTINCT FROM old_delivered
  UNION ALL SELECT old_delivered FROM ends WHERE moved OR new_delivered IS DISTINCT FROM old_delivered
  UNION ALL SELECT unnest(ARRAY[refunded_new_delivered, refunded_old_delivered, refunded_new_cancelled,
                                refunded_old_cancelled]) FROM ends
) days WHERE at IS NOT NULL
"""

# Counts from the events and durations from the order timeline, each grouped on its own and then put
# together: the durations' ordered arrays need a sorted aggregate, which over the events as well (a
# sort of every order event of the range) cost twice the whole statement. The refunds of delivered and of
# cancelled orders are counted on the delivered or cancelled event's own row (its day, service and
# reader), so each is a subset of its denominator in every group; the timeline's partial index holds the
# refunded orders.
FULFILLMENT_COUNTS = (*ORDER_COUNTS, *REFUND_COUNTS)
REFUNDED = {
    "delivered_refunded": "name = 'order.delivered' AND refund.order_id IS NOT NULL",
    "cancelled_refunded": "name = 'order.cancelled' AND refund.order_id IS NOT NULL",
}
FULFILLMENT_SQL = f"""
INSERT INTO metrics_daily_fulfillment (day, service, reader_id, {", ".join(FULFILLMENT_COUNTS)},
                                       ttf_response_seconds, ttf_delivery_seconds)
SELECT day, service, reader_id, {", ".join(f"sum({c})" for c in FULFILLMENT_COUNTS)},
       coalesce(max(response), '{{}}'), coalesce(max(delivery), '{{}}')
FROM (
  SELECT {DAY} AS day, coalesce(properties->>'service', '') AS service,
         (properties->>'reader_id')::bigint AS reader_id,
         {", ".join(f"count(*) FILTER (WHERE name = 'order.{c}') AS {c}" for c in ORDER_COUNTS)},
         {", ".join(f"count(*) FILTER (WHERE {condition}) AS {c}" for c, condition in REFUNDED.items())},
         NULL::int[] AS response, NULL::int[] AS delivery
  FROM events_raw LEFT JOIN analytics_order_timeline refund
    ON refund.order_id = subject_id AND refund.refunded_at IS NOT NULL AND name IN ('order.delivered', 'order.cancelled')
  WHERE name = ANY(%(names)s) AND {WINDOW}
  GROUP BY 1, 2, 3
  UNION ALL
  SELECT day, service, reader_id, {", ".join("0" for _ in FULFILLMENT_COUNTS)},
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

#
# Payments, calls, moderation
#

# A fallback is counted under the attempt that failed (its day, provider and country): a failed attempt
# whose payment another attempt replaced (marketplace_payment.fallback_of, unique), so fallbacks never
# exceed failures in any group. Fallbacks follow their failure within minutes, before the day's last
# nightly run; one made later is counted by the next backfill of the failure's day.
PAYMENTS_SQL = f"""
INSERT INTO metrics_daily_payments (day, provider, country, {", ".join(PAYMENT_EVENTS)}, fallbacks)
SELECT {DAY}, coalesce(properties->>'provider', ''), coalesce(properties->>'country', ''),
       {_counts(PAYMENT_EVENTS)},
       count(retry.id)
FROM events_raw LEFT JOIN marketplace_payment retry
  ON retry.fallback_of_id = subject_id AND name = 'payment.failed' AND subject_type = 'marketplace.payment'
WHERE name = ANY(%(names)s) AND {WINDOW}
GROUP BY 1, 2, 3
"""

CALLS_SQL = f"""
INSERT INTO metrics_daily_calls (day, reader_id, {", ".join(CALL_COUNTS)})
SELECT {DAY}, (properties->>'reader_id')::bigint, {_counts({c: f"call.{c}" for c in CALL_COUNTS})}
{EVENTS}
GROUP BY 1, 2
"""

MODERATION_SQL = """
INSERT INTO metrics_daily_moderation (day, reader_id, approved, rejected, delivered, refunded, delivered_refunded,
                                      calls_answered, calls_dropped, calls_ended)
SELECT day, reader_id, sum(approved), sum(rejected), sum(delivered), sum(refunded), sum(delivered_refunded),
       sum(answered), sum(dropped), sum(ended)
FROM (
  SELECT day, reader_id, approved, rejected, delivered, refunded, delivered_refunded,
         0 AS answered, 0 AS dropped, 0 AS ended
  FROM metrics_daily_fulfillment WHERE day BETWEEN %(first)s AND %(last)s
  UNION ALL
  SELECT day, reader_id, 0, 0, 0, 0, 0, answered, dropped, ended
  FROM metrics_daily_calls WHERE day BETWEEN %(first)s AND %(last)s
) families
GROUP BY day, reader_id
HAVING sum(approved + rejected + delivered + refunded + answered + dropped + ended) > 0
"""

#
# Activity: sessions, actors, the activity blocks and first days, retention cells
#

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
RETENTION_IN_COHORTS = "AND " + _monday("f.first_day") + " = ANY(%(cohorts)s)"


#
# Content and notifications
#

# Listens per (day, sign) from the events (language ""), and the approval of each horoscope read from
# marketplace_horoscope by its date (the row's day; a few rows a day, by the (date, approval_status) index):
# once as the horoscope (language "") and once per language its text is written in. %(pushes)s pairs each
# sign with the push instants of its cohorts on each day (run._pushes): a push is "before" when the
# horoscope was approved before that instant.
HOROSCOPE_TEXTS = ", ".join(f"('{code}', coalesce(h.text_{code}, '') <> '')" for code, _ in settings.LANGUAGES)
HOROSCOPE_WRITTEN = ", ".join(f"coalesce(text_{code}, '') <> ''" for code, _ in settings.LANGUAGES)
LISTENED = "coalesce(subject_id, (properties->>'horoscope_id')::bigint)"
CONTENT_SQL = f"""
INSERT INTO metrics_daily_content (day, sign, language, listens, listened_through, submitted, approved, rejected,
                                   approval_seconds, cohort_pushes, approved_before_push)
SELECT day, sign, language, sum(listens), sum(through), sum(submitted), sum(approved), sum(rejected),
       coalesce(array_agg(seconds ORDER BY seconds) FILTER (WHERE seconds IS NOT NULL), '{{}}'),
       sum(pushes), sum(before_push)
FROM (
  SELECT day, sign, '' AS language, 1 AS listens, (percent >= %(through)s)::int AS through, 0 AS submitted,
         0 AS approved, 0 AS rejected, NULL::int AS seconds, 0 AS pushes, 0 AS before_push
  FROM (
    -- One listen per actor, horoscope and day, at the highest percent reached: the listen route appends
    -- an event each time the percent rises. An event without an actor or a horoscope is a listen alone.
    SELECT {DAY} AS day, properties->>'sign' AS sign, max((properties->>'percent')::int) AS percent
    {EVENTS}
    GROUP BY 1, 2, {ACTOR}, {LISTENED},
             CASE WHEN {ACTOR} IS NULL OR {LISTENED} IS NULL THEN id END
  ) listens
  UNION ALL
  SELECT h.date, h.sign, t.language, 0, 0, 1, (h.approval_status = 'approved')::int,
         (h.approval_status = 'rejected')::int,
         CASE WHEN h.approval_status = 'approved' AND h.approved_at IS NOT NULL
              THEN greatest(0, round(extract(epoch FROM h.approved_at - h.created_at)))::int END,
         count(p.due), count(p.due) FILTER (WHERE h.approval_status = 'approved' AND h.approved_at < p.due)
  FROM marketplace_horoscope h
  CROSS JOIN LATERAL (VALUES ('', true), {HOROSCOPE_TEXTS}) AS t(language, written)
  LEFT JOIN unnest(%(push_signs)s::text[], %(push_days)s::date[], %(push_dues)s::timestamptz[]) AS p(sign, day, due)
    ON p.sign = h.sign AND p.day = h.date
  WHERE h.date BETWEEN %(first)s AND %(last)s AND h.scope = 'daily' AND t.written
  GROUP BY h.id, t.language
) parts
GROUP BY day, sign, language
"""

NOTIFICATIONS_SQL = f"""
INSERT INTO metrics_daily_notifications (day, channel, campaign_id, {", ".join(NOTIFICATION_COUNTS)})
SELECT {DAY}, coalesce(properties->>'channel', ''), (properties->>'campaign_id')::bigint,
       {_counts({c: f"notification.{c}" for c in NOTIFICATION_COUNTS})}
{EVENTS}
GROUP BY 1, 2, 3
"""

#
# The families of a rollup, in the order they run
#

# (table, insert SQL, the events it reads); tables filled from other aggregates come last.
FAMILIES = (
    ("metrics_daily_fulfillment", FULFILLMENT_SQL, [f"order.{c}" for c in ORDER_COUNTS]),
    ("metrics_daily_ttf_histogram", TTF_HISTOGRAM_SQL, []),
    ("metrics_daily_payments", PAYMENTS_SQL, list(PAYMENT_EVENTS.values())),
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
TIMELINE_EVENTS = ["order.created", "order.started", "order.delivered", "order.cancelled", "order.refunded"]


#
# Fingerprints of the days
#

# A business day's events and a fingerprint of them: their count, and two XORs over their ids (the ids
# themselves and a hash of each). Any event added to the day or taken from it changes the count or an
# XOR; a day that lost some events and gained as many others keeps all three only by a contrived
# coincidence. One index-only range scan per day (events_raw_occurred_id_idx): no per-row day arithmetic.
# Per day of the range, a digest of the horoscopes dated that day: what the content rows read besides events.
FINGERPRINT_HOROSCOPES_SQL = (
    "SELECT date, md5(string_agg(concat_ws(',', id, sign, scope, approval_status, approved_at, created_at, "
    f"{HOROSCOPE_WRITTEN}), ';' ORDER BY id)) "
    "FROM marketplace_horoscope WHERE date BETWEEN %s AND %s GROUP BY date"
)
# The zodiac push cohorts: the time zones where clients of each sign live.
COHORTS_SQL = (
    "SELECT DISTINCT zodiac_sign, timezone FROM accounts_user WHERE role = 'client' AND zodiac_sign <> '' ORDER BY 1, 2"
)
FINGERPRINT_DAY_SQL = (
    "SELECT %s::date, count(*), bit_xor(id), bit_xor(hashint8(id)) FROM events_raw "
    "WHERE occurred_at >= %s AND occurred_at < %s"
)
