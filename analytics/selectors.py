"""KPIs read from the daily aggregates, scoped by the same declarations Postgres enforces.

Every formula is defined in ANALYTICS_README.md. A rate whose denominator is zero is None.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import connection
from django.db.models import BigIntegerField, Case, F, QuerySet, Sum, Value, When

from analytics import policies
from analytics.models import (
    APPROVAL_COUNTS,
    CALL_COUNTS,
    CONTENT_COUNTS,
    MODERATION_COUNTS,
    NOTIFICATION_COUNTS,
    ORDER_COUNTS,
    PAYMENT_COUNTS,
    REFUND_COUNTS,
    ActorActivityBlock,
    DailyActiveUsers,
    DailyCalls,
    DailyContent,
    DailyEngagement,
    DailyFulfillment,
    DailyModeration,
    DailyNotifications,
    DailyPayments,
    RetentionCohort,
)
from analytics.rollups import RETENTION_WEEKS, TTF_BUCKET_GROWTH, TTF_LINEAR_BUCKETS, block_masks
from samia.rls.registry import ADMINS, Identity

# group_by names accepted by each family -> the aggregate column.
DIMENSIONS = {
    "fulfillment": {"day": "day", "service": "service", "reader": "reader_id"},
    "moderation": {"day": "day", "reader": "reader_id"},
    "payments": {"day": "day", "provider": "provider", "country": "country"},
    "calls": {"day": "day", "reader": "reader_id"},
    "content": {"day": "day", "sign": "sign", "language": "language"},
    "notifications": {"day": "day", "channel": "channel", "campaign": "campaign_id"},
}
# What each family's result rows hold besides their group_by dimensions (named in the response schema).
RESULT_FIELDS = {
    "fulfillment": (
        *ORDER_COUNTS,
        *REFUND_COUNTS,
        "ttf_response_p50_seconds",
        "ttf_response_p90_seconds",
        "ttf_delivery_p50_seconds",
        "ttf_delivery_p90_seconds",
        "approval_rate",
        "refund_rate",
        "cancellation_refund_rate",
    ),
    "moderation": (*MODERATION_COUNTS, "approval_rate", "refund_rate", "call_drop_rate"),
    "payments": (*PAYMENT_COUNTS, "success_rate", "fallback_rate"),
    "calls": (*CALL_COUNTS, "answer_rate", "drop_rate"),
    "content": (
        *CONTENT_COUNTS,
        *APPROVAL_COUNTS,
        "listen_through_rate",
        "approval_rate",
        "approval_p50_seconds",
        "approval_p90_seconds",
        "approved_before_push_rate",
    ),
    "notifications": (*NOTIFICATION_COUNTS, "delivery_rate", "open_rate", "click_through_rate"),
}
# Range lengths whose distinct-actor count the rollup stores on the range's last day.
WINDOW_COLUMNS = {1: "dau", 7: "wau", 30: "mau"}


def rate(numerator: int, denominator: int) -> float | None:
    """Return numerator / denominator, or None when there is no denominator."""
    return numerator / denominator if denominator else None


def _in_range(queryset: QuerySet, first: dt.date, last: dt.date) -> QuerySet:
    return queryset.filter(day__gte=first, day__lte=last)


def _grouped(queryset: QuerySet, group_by: list[str], family: str, counts: tuple[str, ...]) -> list[dict]:
    columns = [DIMENSIONS[family][name] for name in group_by]
    sums = {c: Sum(c) for c in counts}
    if not columns:
        totals = queryset.aggregate(**sums)
        return [{c: totals[c] or 0 for c in counts}]
    rows = queryset.values(*columns).annotate(**sums).order_by(*columns)
    result = []
    for row in rows:
        item = {name: row[DIMENSIONS[family][name]] for name in group_by}
        item.update({c: row[c] or 0 for c in counts})
        result.append(item)
    return result


def _key(row: dict, group_by: list[str]) -> tuple:
    return tuple(row[name] for name in group_by)


def _percentiles(queryset: QuerySet, columns: tuple[str, ...], group_by: list[str], family: str) -> dict[tuple, list]:
    """Exact p50 and p90 (linear interpolation, percentile_cont) of the durations in each of `columns`.

    One pass: the arrays are unnested side by side (the shorter one padded with NULLs, which the
    aggregates ignore), so the rows are read and grouped once for every column. Returns, per group,
    [[p50, p90] or None for each column].
    """
    dimensions = [DIMENSIONS[family][name] for name in group_by]
    inner, params = queryset.values(*dimensions, *columns).query.sql_with_params()
    select = ", ".join(f"q.{c}" for c in dimensions)
    names = [f"v{i}" for i in range(len(columns))]
    aggregates = ", ".join(f"percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY s.{n})" for n in names)
    sql = (
        f"SELECT {select + ', ' if select else ''}{aggregates} "
        f"FROM ({inner}) q CROSS JOIN LATERAL unnest({', '.join(f'q.{c}' for c in columns)}) AS s({', '.join(names)})"
        + (f" GROUP BY {select}" if select else "")
    )
    with connection.cursor() as cursor:
        # The sort of a month of durations fits in memory at this size (the default spills to disk).
        cursor.execute("SELECT set_config('work_mem', '32MB', true)")
        cursor.execute(sql, params)
        found = {}
        for row in cursor.fetchall():
            values = row[len(dimensions) :]
            # Durations are whole seconds; rounding to milliseconds drops float noise from interpolation.
            found[tuple(row[: len(dimensions)])] = [[round(p, 3) for p in v] if v else None for v in values]
        return found


# What the TTF histogram can group by (it has no reader dimension).
HISTOGRAM_DIMENSIONS = {"day", "service"}


def _histogram_serves(identity: Identity, first: dt.date, last: dt.date, group_by: list[str]) -> bool:
    """Use the histogram for an admin's many-duration query that does not split by reader.

    The durations are counted in the histogram itself (a few thousand narrow rows for a month), not by
    reading every duration array of the range."""
    if identity.role not in ADMINS or not set(group_by) <= HISTOGRAM_DIMENSIONS:
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(sum(count), 0) FROM metrics_daily_ttf_histogram "
            "WHERE day BETWEEN %s AND %s AND kind = 'response'",
            [first, last],
        )
        (durations,) = cursor.fetchone()
    return durations > settings.ANALYTICS_EXACT_PERCENTILE_LIMIT


def _bucket_value(bucket: int, position: float) -> float:
    """The value at `position` (0 <= position < 1) inside a bucket: exact for one-second buckets."""
    if bucket < TTF_LINEAR_BUCKETS:
        return float(bucket)
    low = TTF_LINEAR_BUCKETS * TTF_BUCKET_GROWTH ** (bucket - TTF_LINEAR_BUCKETS)
    return low + position * low * (TTF_BUCKET_GROWTH - 1)


def _histogram_percentile(buckets: list[tuple[int, int]], fraction: float) -> float:
    """percentile_cont over bucketed durations: the ranks are exact, values inside a bucket spread evenly."""
    total = sum(count for _, count in buckets)
    target = fraction * (total - 1)

    def at(rank: int) -> float:
        seen = 0
        for bucket, count in buckets:
            if rank < seen + count:
                return _bucket_value(bucket, (rank - seen + 0.5) / count)
            seen += count
        return _bucket_value(buckets[-1][0], 1.0)

    low = int(target)
    value = at(low)
    if target > low:
        value += (target - low) * (at(low + 1) - value)
    return round(value, 3)


def _histogram_percentiles(first: dt.date, last: dt.date, group_by: list[str]) -> dict[tuple, list]:
    """p50 and p90 of both TTFs per group, from metrics_daily_ttf_histogram (within 2%)."""
    columns = [DIMENSIONS["fulfillment"][name] for name in group_by]
    select = "".join(f"{c}, " for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {select}kind, bucket, sum(count) FROM metrics_daily_ttf_histogram "
            f"WHERE day BETWEEN %s AND %s GROUP BY {select}kind, bucket ORDER BY {select}kind, bucket",
            [first, last],
        )
        groups: dict[tuple, dict[str, list]] = {}
        for row in cursor.fetchall():
            key, kind, bucket, count = tuple(row[: len(columns)]), row[-3], row[-2], row[-1]
            groups.setdefault(key, {}).setdefault(kind, []).append((bucket, count))
    found = {}
    for key, kinds in groups.items():
        found[key] = [
            [_histogram_percentile(kinds[kind], p) for p in (0.5, 0.9)] if kinds.get(kind) else None
            for kind in ("response", "delivery")
        ]
    return found


def fulfillment_metrics(*, identity: Identity, first: dt.date, last: dt.date, group_by: list[str]) -> list[dict]:
    """Return order counts, TTF-Response/TTF-Delivery p50/p90, approval and refund rates, per group."""
    rows = _in_range(policies.FULFILLMENT.scope(DailyFulfillment.objects.all(), identity), first, last)
    result = _grouped(rows, group_by, "fulfillment", ORDER_COUNTS + REFUND_COUNTS)
    if _histogram_serves(identity, first, last, group_by):
        durations = _histogram_percentiles(first, last, group_by)
    else:
        durations = _percentiles(rows, ("ttf_response_seconds", "ttf_delivery_seconds"), group_by, "fulfillment")
    for item in result:
        response, delivery = durations.get(_key(item, group_by)) or (None, None)
        (p50r, p90r), (p50d, p90d) = response or (None, None), delivery or (None, None)
        item.update(
            ttf_response_p50_seconds=p50r,
            ttf_response_p90_seconds=p90r,
            ttf_delivery_p50_seconds=p50d,
            ttf_delivery_p90_seconds=p90d,
            approval_rate=rate(item["approved"], item["approved"] + item["rejected"]),
            refund_rate=rate(item["delivered_refunded"], item["delivered"]),
            cancellation_refund_rate=rate(item["cancelled_refunded"], item["cancelled"]),
        )
    return result


def moderation_metrics(*, identity: Identity, first: dt.date, last: dt.date, group_by: list[str]) -> list[dict]:
    """Return reading decisions, refunds and call drops: the moderation family that monitors may read."""
    rows = _in_range(policies.MODERATION.scope(DailyModeration.objects.all(), identity), first, last)
    result = _grouped(rows, group_by, "moderation", MODERATION_COUNTS)
    for item in result:
        item.update(
            approval_rate=rate(item["approved"], item["approved"] + item["rejected"]),
            refund_rate=rate(item["delivered_refunded"], item["delivered"]),
            call_drop_rate=rate(item["calls_dropped"], item["calls_dropped"] + item["calls_ended"]),
        )
    return result


def payment_metrics(*, identity: Identity, first: dt.date, last: dt.date, group_by: list[str]) -> list[dict]:
    """Return the payment success and fallback rates by provider and country."""
    rows = _in_range(policies.PAYMENTS.scope(DailyPayments.objects.all(), identity), first, last)
    result = _grouped(rows, group_by, "payments", PAYMENT_COUNTS)
    for item in result:
        item.update(
            success_rate=rate(item["succeeded"], item["succeeded"] + item["failed"]),
            fallback_rate=rate(item["fallbacks"], item["failed"]),
        )
    return result


def call_metrics(*, identity: Identity, first: dt.date, last: dt.date, group_by: list[str]) -> list[dict]:
    """Return call answer % and drop %."""
    rows = _in_range(policies.CALLS.scope(DailyCalls.objects.all(), identity), first, last)
    result = _grouped(rows, group_by, "calls", CALL_COUNTS)
    for item in result:
        item.update(
            answer_rate=rate(item["answered"], item["scheduled"]),
            drop_rate=rate(item["dropped"], item["dropped"] + item["ended"]),
        )
    return result


def content_metrics(*, identity: Identity, first: dt.date, last: dt.date, group_by: list[str]) -> list[dict]:
    """Return horoscope listens, listen-through, and the approval of the days' horoscopes, per group."""
    rows = _in_range(policies.CONTENT.scope(DailyContent.objects.all(), identity), first, last)
    # language "" rows hold the listens and each horoscope once; the others its text in each language
    rows = rows.exclude(language="") if "language" in group_by else rows.filter(language="")
    result = _grouped(rows, group_by, "content", CONTENT_COUNTS + APPROVAL_COUNTS)
    durations = _percentiles(rows, ("approval_seconds",), group_by, "content")
    for item in result:
        [approval] = durations.get(_key(item, group_by)) or [None]
        p50, p90 = approval or (None, None)
        item.update(
            listen_through_rate=rate(item["listened_through"], item["listens"]),
            approval_rate=rate(item["approved"], item["approved"] + item["rejected"]),
            approval_p50_seconds=p50,
            approval_p90_seconds=p90,
            approved_before_push_rate=rate(item["approved_before_push"], item["cohort_pushes"]),
        )
    return result


def notification_metrics(*, identity: Identity, first: dt.date, last: dt.date, group_by: list[str]) -> list[dict]:
    """Return notification delivery, open rate and CTR (clicked / delivered) by channel and campaign."""
    rows = _in_range(policies.NOTIFICATIONS.scope(DailyNotifications.objects.all(), identity), first, last)
    result = _grouped(rows, group_by, "notifications", NOTIFICATION_COUNTS)
    for item in result:
        item.update(
            delivery_rate=rate(item["delivered"], item["sent"]),
            open_rate=rate(item["opened"], item["delivered"]),
            click_through_rate=rate(item["clicked"], item["delivered"]),
        )
    return result


def _distinct_actors(identity: Identity, first: dt.date, last: dt.date) -> int:
    """Distinct actors active in first..last: the stored DAU/WAU/MAU when the range is one of those windows."""
    column = WINDOW_COLUMNS.get((last - first).days + 1)
    if column:
        stored = _windows(identity, last)
        if stored is not None:
            return stored[column]
    # otherwise from the activity blocks: the actors with a bit set among the range's days
    masks = block_masks(first, last)
    blocks = policies.ACTIVITY_BLOCKS.scope(ActorActivityBlock.objects.all(), identity).filter(block__in=masks)
    in_range = Case(
        # a bigint parameter: a bare int would go as int4 (psycopg's Int4), wrapping the high bits away
        *[When(block=block, then=F("days").bitand(Value(mask, BigIntegerField()))) for block, mask in masks.items()],
        default=Value(0),
        output_field=BigIntegerField(),
    )
    return blocks.alias(in_range=in_range).exclude(in_range=0).values("actor").distinct().count()


def _windows(identity: Identity, day: dt.date) -> dict | None:
    rows = policies.ACTIVE_USERS.scope(DailyActiveUsers.objects.all(), identity).filter(day=day)
    return rows.values("dau", "wau", "mau").first()


def active_users(*, identity: Identity, day: dt.date) -> dict:
    """Return DAU, WAU (7 days ending `day`), MAU (30 days ending `day`) and stickiness = DAU / MAU.

    Read from metrics_daily_active_users (the nightly rollup); a day it has not covered is counted here."""
    stored = _windows(identity, day)
    if stored is None:
        stored = {
            "dau": _distinct_actors(identity, day, day),
            "wau": _distinct_actors(identity, day - dt.timedelta(days=6), day),
            "mau": _distinct_actors(identity, day - dt.timedelta(days=29), day),
        }
    dau, wau, mau = stored["dau"], stored["wau"], stored["mau"]
    return {"day": day, "dau": dau, "wau": wau, "mau": mau, "stickiness": rate(dau, mau)}


def retention_cohorts(*, identity: Identity, first: dt.date, last: dt.date) -> list[dict]:
    """Return week-N return of each signup-week cohort (signup = first active day) starting in first..last.

    Sums the precomputed cells (metrics_retention_cohort) whose day is at most `last`: a cohort actor is
    counted in week N through `last` when its first active day of that week is on or before `last`."""
    first_week = first - dt.timedelta(days=first.weekday())
    cells = (
        policies.RETENTION.scope(RetentionCohort.objects.all(), identity)
        .filter(cohort_week__gte=first_week, cohort_week__lte=last, day__lte=last, week_n__lte=RETENTION_WEEKS)
        .values("cohort_week", "week_n")
        .annotate(returned=Sum("actors"))
        .order_by("cohort_week", "week_n")
    )
    cohorts: dict[dt.date, dict[int, int]] = {}
    for cell in cells:
        cohorts.setdefault(cell["cohort_week"], {})[cell["week_n"]] = cell["returned"]
    result = []
    for week, returned in sorted(cohorts.items()):
        size = returned.get(0, 0)
        weeks = min(RETENTION_WEEKS, (last - week).days // 7)
        counts = [returned.get(n, 0) for n in range(weeks + 1)]
        result.append({"cohort_week": week, "size": size, "returned": counts, "rates": [rate(c, size) for c in counts]})
    return result


def engagement_metrics(*, identity: Identity, first: dt.date, last: dt.date) -> dict:
    """Return daily DAU and sessions, distinct actors, DAU/WAU/MAU/stickiness on `last`, retention."""
    days = _in_range(policies.ENGAGEMENT.scope(DailyEngagement.objects.all(), identity), first, last).order_by("day")
    return {
        "series": list(days.values("day", "dau", "sessions")),
        "active_users": _distinct_actors(identity, first, last),
        "on_last_day": active_users(identity=identity, day=last),
        "retention": retention_cohorts(identity=identity, first=first, last=last),
    }


def overview(*, identity: Identity, day: dt.date) -> dict:
    """Return one business day of every family at a glance, for admins."""

    def one(function):
        return function(identity=identity, first=day, last=day, group_by=[])[0]

    return {
        "date": day,
        "fulfillment": one(fulfillment_metrics),
        "payments": one(payment_metrics),
        "calls": one(call_metrics),
        "content": one(content_metrics),
        "notifications": one(notification_metrics),
        "engagement": active_users(identity=identity, day=day),
    }
