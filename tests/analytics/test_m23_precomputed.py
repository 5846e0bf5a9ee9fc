"""The precomputed DAU/WAU/MAU and retention cells give exactly what counting the active actors gives."""

import datetime as dt

import pytest
from django.db import connection

from analytics import selectors
from analytics.rollups import ACTIVITY_EPOCH, ACTOR, aggregates_purge, rollup_days
from analytics.rollups.activity import _signed
from samia.rls.registry import Identity
from tests.analytics.conftest import at, event
from tests.conftest import rows_as

pytestmark = pytest.mark.django_db

ADMIN = Identity(1, "admin")
FIRST, LAST = dt.date(2026, 10, 5), dt.date(2026, 11, 20)
# The active (day, actor) pairs, straight from the session events: what the activity blocks must hold.
ACTIVE = f"""
SELECT DISTINCT (occurred_at AT TIME ZONE 'Asia/Riyadh')::date AS day, {ACTOR} AS actor
FROM events_raw WHERE name = 'app.session' AND {ACTOR} IS NOT NULL
"""


def _counted(first: dt.date, last: dt.date) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(DISTINCT actor) FROM ({ACTIVE}) a WHERE day BETWEEN %s AND %s", [first, last])
        return cursor.fetchone()[0]


def _counted_retention(first: dt.date, last: dt.date) -> list[dict]:
    """The request-time definition: join first-seen cohorts to the active actors, week by week."""
    first_week = first - dt.timedelta(days=first.weekday())
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT date_trunc('week', c.first_day)::date,
                   (date_trunc('week', a.day)::date - date_trunc('week', c.first_day)::date) / 7 AS n,
                   count(DISTINCT a.actor)
            FROM metrics_actor_first_seen c JOIN ({ACTIVE}) a
              ON a.actor = c.actor AND a.day >= c.first_day
            WHERE c.first_day BETWEEN %s AND %s AND a.day BETWEEN %s AND %s
            GROUP BY 1, 2 HAVING (date_trunc('week', a.day)::date - date_trunc('week', c.first_day)::date) / 7 <= 12
            """,
            [first_week, last, first_week, last],
        )
        cohorts: dict = {}
        for week, n, count in cursor.fetchall():
            cohorts.setdefault(week, {})[n] = count
    result = []
    for week, returned in sorted(cohorts.items()):
        weeks = min(12, (last - week).days // 7)
        counts = [returned.get(n, 0) for n in range(weeks + 1)]
        result.append({"cohort_week": week, "size": returned.get(0, 0), "returned": counts})
    return result


def _sessions(seed: int, first: dt.date, last: dt.date) -> None:
    """A deterministic spread of sessions: actor k is active on days where (k * day + seed) % 5 < 2."""
    day = first
    while day <= last:
        for actor in range(1, 16):
            if (actor * day.toordinal() + seed) % 5 < 2 and (actor + day.day) % 3:
                event("app.session", at(f"{day} 09:00"), actor=actor)
        day += dt.timedelta(days=1)


def _assert_blocks_match_active_days() -> None:
    """The activity blocks hold exactly the bits of the active days (2026-10-25 begins a block)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT actor, block, days FROM metrics_actor_activity_block WHERE days <> 0")
        blocks = {(actor, block): days for actor, block, days in cursor.fetchall()}
        cursor.execute(f"SELECT actor, day FROM ({ACTIVE}) a")
        expected: dict = {}
        for actor, day in cursor.fetchall():
            number = (day - ACTIVITY_EPOCH).days
            key = (actor, number // 64)
            expected[key] = expected.get(key, 0) | 1 << number % 64
    assert blocks == {key: _signed(bits) for key, bits in expected.items()}
    assert len({block for _, block in blocks}) == 2


def _assert_matches_counting() -> None:
    _assert_blocks_match_active_days()
    day = FIRST
    while day <= LAST:
        stored = selectors.active_users(identity=ADMIN, day=day)
        assert (stored["dau"], stored["wau"], stored["mau"]) == (
            _counted(day, day),
            _counted(day - dt.timedelta(days=6), day),
            _counted(day - dt.timedelta(days=29), day),
        ), day
        for first in (FIRST, day - dt.timedelta(days=9), day - dt.timedelta(days=29)):
            cohorts = selectors.retention_cohorts(identity=ADMIN, first=first, last=day)
            assert [{k: c[k] for k in ("cohort_week", "size", "returned")} for c in cohorts] == _counted_retention(
                first, day
            ), (first, day)
        day += dt.timedelta(days=1)


def test_stored_windows_and_cohorts_equal_counting_after_a_forward_backfill():
    _sessions(0, FIRST, LAST)
    day = FIRST
    while day <= LAST:  # analytics_backfill's default: one day per run, oldest first
        rollup_days(first=day, last=day)
        day += dt.timedelta(days=1)

    _assert_matches_counting()


def test_late_and_backfilled_days_move_cohorts_and_later_windows():
    _sessions(0, dt.date(2026, 10, 20), LAST)
    rollup_days(first=dt.date(2026, 10, 20), last=LAST)
    # Older history arrives: actors' first days move earlier into other cohorts, later windows change.
    _sessions(3, FIRST, dt.date(2026, 10, 19))
    event("app.session", at("2026-11-01 09:00"), actor=40)  # a late event, then the nightly window re-runs
    rollup_days(first=FIRST, last=dt.date(2026, 10, 19))
    rollup_days(first=dt.date(2026, 10, 30), last=dt.date(2026, 11, 2))

    _assert_matches_counting()


def test_a_day_that_loses_its_events_loses_its_actors_from_later_windows():
    _sessions(0, FIRST, LAST)
    rollup_days(first=FIRST, last=LAST)
    gone = dt.date(2026, 10, 24)  # the last day of a block: MAU of the next block's days reads it
    with connection.cursor() as cursor:  # events of that day withdrawn (a partition dropped, say)
        cursor.execute(
            "DELETE FROM events_raw WHERE occurred_at >= %s AND occurred_at < %s",
            [at(f"{gone} 00:00"), at(f"{gone + dt.timedelta(days=1)} 00:00")],
        )
        assert cursor.rowcount > 0

    rollup_days(first=gone, last=gone)

    assert _counted(gone, gone) == 0
    _assert_matches_counting()


def test_engagement_range_uses_the_stored_window_only_for_its_exact_length():
    _sessions(1, FIRST, LAST)
    rollup_days(first=FIRST, last=LAST)

    for length in (1, 7, 30, 12, 150):  # 150 days reach back over three activity blocks
        first = LAST - dt.timedelta(days=length - 1)
        body = selectors.engagement_metrics(identity=ADMIN, first=first, last=LAST)
        assert body["active_users"] == _counted(first, LAST), length


def test_a_day_the_rollup_never_covered_is_counted_at_request_time():
    _sessions(2, FIRST, FIRST + dt.timedelta(days=3))
    rollup_days(first=FIRST, last=FIRST + dt.timedelta(days=3))
    later = FIRST + dt.timedelta(days=40)

    stored = selectors.active_users(identity=ADMIN, day=later)

    assert (stored["dau"], stored["wau"], stored["mau"]) == (0, 0, 0)
    inside = FIRST + dt.timedelta(days=20)  # no later activity: not stored either, counted
    assert selectors.active_users(identity=ADMIN, day=inside)["mau"] == _counted(FIRST, inside) > 0


def test_the_precomputed_tables_are_purged_with_the_other_aggregates():
    _sessions(0, FIRST, FIRST + dt.timedelta(days=6))
    rollup_days(first=FIRST, last=FIRST + dt.timedelta(days=6))

    aggregates_purge(today=dt.date(2030, 1, 1))

    with connection.cursor() as cursor:
        for table in ("metrics_daily_active_users", "metrics_retention_cohort", "metrics_actor_activity_block"):
            cursor.execute(f"SELECT count(*) FROM {table}")
            assert cursor.fetchone()[0] == 0, table


def test_rollups_take_turns():
    """A rollup waits while another holds the rollup lock (the active-actor insert relies on it: no ON CONFLICT)."""
    import threading
    import time

    from django.db import connections, transaction

    from analytics.rollups import ROLLUP_LOCK

    holding, release = threading.Event(), threading.Event()

    def hold():
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [ROLLUP_LOCK])
                holding.set()
                release.wait(10)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert holding.wait(10)
        threading.Timer(0.5, release.set).start()
        began = time.monotonic()
        rollup_days(first=LAST, last=LAST)
        waited = time.monotonic() - began
    finally:
        release.set()
        holder.join()
    assert waited >= 0.45


ACTOR_TABLES = (
    "metrics_actor_activity_block",
    "metrics_actor_first_seen",
    "metrics_daily_active_users",
    "metrics_retention_cohort",
)


@pytest.mark.parametrize("role", ["superadmin", "admin", "monitor", "reader", "client"])
def test_the_actor_tables_show_their_rows_to_admins_only(personas, role):
    """Postgres itself, bound as each role, shows the per-actor tables to admins and superadmins only."""
    _sessions(0, FIRST, FIRST + dt.timedelta(days=9))
    rollup_days(first=FIRST, last=FIRST + dt.timedelta(days=9))
    identity = Identity(personas[role].pk, role)

    for table in ACTOR_TABLES:
        [(stored,)] = rows_as(Identity(personas["superadmin"].pk, "superadmin"), f"SELECT count(*) FROM {table}")
        [(seen,)] = rows_as(identity, f"SELECT count(*) FROM {table}")
        assert stored > 0 and seen == (stored if role in ("admin", "superadmin") else 0), (table, role)
