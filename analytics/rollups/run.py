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
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_time

from analytics.rollups.activity import _retention, _week_firsts, _windows, block_masks
from analytics.rollups.sql import (
    ACTIVE_SQL,
    ACTIVITY_EPOCH,
    ACTIVITY_FAMILIES,
    ACTOR,
    BLOCK_DAYS,
    COHORTS_SQL,
    CONTENT_SQL,
    DIFFERENTIAL,
    EVENT_FAMILIES,
    FAMILIES,
    FINGERPRINT_DAY_SQL,
    FINGERPRINT_HOROSCOPES_SQL,
    FULFILLMENT_FAMILIES,
    PRECOMPUTED,
    RETENTION_SQL,
    ROLLED_UP_DAYS,
    TIMELINE_EVENTS,
    TIMELINE_SQL,
)
from samia.companion import Companion
from samia.marketplace.cohorts import local_time_instant

ROLLUP_LOCK = "analytics.rollup"


def business_timezone() -> str:
    """Return the IANA zone where business days are cut."""
    return settings.ANALYTICS_TIMEZONE


def listen_through_percent() -> int:
    """Return the percent from which a listen counts as listened through."""
    return settings.ANALYTICS_LISTEN_THROUGH_PERCENT


def business_today(now: dt.datetime | None = None) -> dt.date:
    """Return the business day of `now` (default: the current instant)."""
    return (now or timezone.now()).astimezone(ZoneInfo(business_timezone())).date()


def day_bounds(first: dt.date, last: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The UTC instants where business day `first` begins and the day after `last` begins (DST-aware)."""
    zone = ZoneInfo(business_timezone())
    start = dt.datetime.combine(first, dt.time(), tzinfo=zone)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


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


def _cohorts(cursor) -> list[tuple[str, str]]:
    """(sign, zone) of every zodiac push cohort: the time zones where clients of each sign live."""
    cursor.execute(COHORTS_SQL)
    return [(sign, zone) for sign, zone in cursor.fetchall() if _known_zone(zone)]


def _known_zone(zone: str) -> bool:
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _pushes(cursor, first: dt.date, last: dt.date) -> dict:
    """The zodiac push instant of each sign's cohorts on each day of first..last, as CONTENT_SQL reads them."""
    local_time = parse_time(settings.NOTIFICATIONS_ZODIAC_LOCAL_TIME)
    cohorts = _cohorts(cursor)
    days = [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]
    dues = {
        (day, zone): local_time_instant(day=day, local_time=local_time, zone=zone)
        for day in days
        for _, zone in cohorts
    }
    pushes = [(sign, day, dues[day, zone]) for day in days for sign, zone in cohorts]
    return {
        "push_signs": [p[0] for p in pushes],
        "push_days": [p[1] for p in pushes],
        "push_dues": [p[2] for p in pushes],
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
        elif sql is CONTENT_SQL:
            cursor.execute(sql, {**_params(first, last, names), **_pushes(cursor, first, last)})
        elif sql:
            cursor.execute(sql, _params(first, last, names))
    return moved


def _rollup_config(cohorts: list[tuple[str, str]]) -> str:
    """What besides its events and horoscopes a day's aggregates depend on: the business timezone, the
    listen-through threshold, the zodiac push time and cohorts, and the rollup SQL itself, so that a changed
    setting, cohort or formula makes every day changed."""
    texts = [TIMELINE_SQL, RETENTION_SQL, _week_firsts(ACTIVITY_EPOCH), ACTOR, *(sql for _, sql, _ in FAMILIES if sql)]
    texts += [business_timezone(), str(listen_through_percent()), settings.NOTIFICATIONS_ZODIAC_LOCAL_TIME]
    texts += [f"{sign}@{zone}" for sign, zone in cohorts]
    return hashlib.sha256("\x00".join(texts).encode()).hexdigest()[:32]


def _fingerprints(cursor, first: dt.date, last: dt.date) -> dict[dt.date, tuple[int, str]]:
    """Per day of first..last: (events, fingerprint), the fingerprint also covering the day's horoscopes
    and _rollup_config()."""
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    params = [value for day in days for value in (day, *day_bounds(day, day))]
    cursor.execute(" UNION ALL ".join([FINGERPRINT_DAY_SQL] * len(days)), params)
    counts = sorted(cursor.fetchall())  # in day order (a parallel plan mixes them)
    cursor.execute(FINGERPRINT_HOROSCOPES_SQL, [first, last])
    horoscopes = dict(cursor.fetchall())
    config = _rollup_config(_cohorts(cursor))
    return {
        day: (
            events,
            hashlib.sha256(f"{events}:{ids}:{hashes}:{horoscopes.get(day, '')}:{config}".encode()).hexdigest()[:32],
        )
        for day, events, ids, hashes in counts
    }


def _days(first: dt.date, last: dt.date) -> list[str]:
    return [(first + dt.timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]


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
    second connection alongside the rest (ANALYTICS_ROLLUP_CONNECTIONS); inside a caller's
    transaction everything runs on the caller's connection, which alone sees what that transaction wrote."""
    if last < first:
        raise ValueError("last must not be before first")
    split = not connection.in_atomic_block and settings.ANALYTICS_ROLLUP_CONNECTIONS > 1
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

            companion = Companion(activity, name="analytics-rollup-companion")
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
    """Recompute today so far and the days of the late-arrival window before it (ANALYTICS_LATE_DAYS)
    whose events changed since they were last rolled up."""
    today = today or business_today()
    late_days = settings.ANALYTICS_LATE_DAYS
    return rollup_days(first=today - dt.timedelta(days=late_days), last=today, changed_only=True)


def aggregates_purge(*, today: dt.date | None = None) -> int:
    """Delete aggregate rows older than ANALYTICS_AGGREGATE_RETENTION_DAYS."""
    today = today or business_today()
    cutoff = today - dt.timedelta(days=settings.ANALYTICS_AGGREGATE_RETENTION_DAYS)
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
