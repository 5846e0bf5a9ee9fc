"""A rollup run outside a transaction (the nightly job, the backfill command) runs its activity half on a
second connection: the results are those of one connection, and the two halves commit together or not at all.

These tests commit for real (the second connection cannot see a test's open transaction), in March 2003:
a month, an activity block and first days no other test uses. Its partition and every row rolled up
from it are removed afterwards.
"""

import datetime as dt
import threading

import pytest
from django.db import DataError, connection, transaction
from django.test import override_settings

from analytics.rollups import day_bit, rollup_days, run
from tests.analytics.conftest import at, event, order_event
from tests.conftest import in_own_connection

pytestmark = pytest.mark.django_db

DAY = dt.date(2003, 3, 12)  # a Wednesday; Asia/Riyadh is UTC+3 all year
BLOCK = day_bit(DAY)[0]
MONTH = ("2003-03-01", "2003-04-01")
ORDER = 2_003_031_201


def _committed(work):
    failures = in_own_connection(lambda: _atomically(work))
    assert failures == []


def _atomically(work):
    with transaction.atomic():
        work()


def _load():
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS events_raw_2003_03 PARTITION OF events_raw "
            f"FOR VALUES FROM ('{MONTH[0]} 00:00:00+00') TO ('{MONTH[1]} 00:00:00+00')"
        )
    event("app.session", at(f"{DAY} 08:00"), actor=7_001)
    event("app.session", at(f"{DAY} 15:00"), actor=7_001)
    event("app.session", at(f"{DAY} 10:00"), actor=7_002)
    event("app.session", at(f"{DAY} 11:00"), key="anonymous-device-1")
    event("horoscope.listened", at(f"{DAY} 12:00"), actor=7_001, sign="leo", percent=95)
    order_event("created", ORDER, at(f"{DAY} 09:00"), reader_id=8_001)
    order_event("started", ORDER, at(f"{DAY} 09:10"), reader_id=8_001)


def _clean():
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS events_raw_2003_03")
        for table in [t for t, _, _ in run.FAMILIES if t not in run.DIFFERENTIAL] + [
            *run.PRECOMPUTED,
            run.ROLLED_UP_DAYS,
        ]:
            cursor.execute(f"DELETE FROM {table} WHERE day >= %s AND day < %s", MONTH)
        cursor.execute("DELETE FROM metrics_retention_cohort WHERE cohort_week >= %s AND cohort_week < %s", MONTH)
        cursor.execute("DELETE FROM metrics_actor_activity_block WHERE block = %s", [BLOCK])
        cursor.execute("DELETE FROM metrics_actor_first_seen WHERE first_day >= %s AND first_day < %s", MONTH)
        cursor.execute("DELETE FROM analytics_order_timeline WHERE order_id = %s", [ORDER])


@pytest.fixture
def _partitions():
    """Not the package's: its partitions, made in the test's transaction, would lock events_raw against the
    committed partition below."""


@pytest.fixture
def march():
    _committed(_clean)
    _committed(_load)
    yield
    _committed(_clean)


def _state() -> dict:
    """Everything a rollup of DAY writes, as committed."""
    queries = {
        "engagement": "SELECT day, dau, sessions FROM metrics_daily_engagement WHERE day = %(day)s",
        "windows": "SELECT day, dau, wau, mau FROM metrics_daily_active_users WHERE day = %(day)s",
        "retention": "SELECT cohort_week, week_n, day, actors FROM metrics_retention_cohort WHERE day = %(day)s",
        "content": "SELECT day, sign, listens, listened_through FROM metrics_daily_content WHERE day = %(day)s",
        "fulfillment": "SELECT day, service, reader_id, created, started, ttf_response_seconds "
        "FROM metrics_daily_fulfillment WHERE day = %(day)s",
        "blocks": "SELECT actor, days FROM metrics_actor_activity_block WHERE block = %(block)s ORDER BY actor",
        "first_days": "SELECT actor, first_day FROM metrics_actor_first_seen WHERE first_day = %(day)s ORDER BY actor",
        "rolled": "SELECT day, events FROM analytics_rolled_up_day WHERE day = %(day)s",
    }
    state = {}

    def read():
        with connection.cursor() as cursor:
            for name, sql in queries.items():
                cursor.execute(sql, {"day": DAY, "block": BLOCK})
                state[name] = cursor.fetchall()

    assert in_own_connection(read) == []
    return state


NOTHING = {
    name: []
    for name in ("engagement", "windows", "retention", "content", "fulfillment", "blocks", "first_days", "rolled")
}


def _roll(**settings) -> list[Exception]:
    """rollup_days over DAY on a connection outside any transaction, as the nightly job runs it."""
    with override_settings(**settings):
        return in_own_connection(lambda: rollup_days(first=DAY, last=DAY))


def _where_activity_runs(monkeypatch) -> list[str]:
    threads = []
    activity = run._activity

    def recording(cursor, first, last):
        threads.append(threading.current_thread().name)
        activity(cursor, first, last)

    monkeypatch.setattr(run, "_activity", recording)
    return threads


def test_two_connections_give_the_results_of_one(march, monkeypatch):
    threads = _where_activity_runs(monkeypatch)

    assert _roll() == []
    split = _state()
    assert threads == ["analytics-rollup-companion"]
    _committed(_clean)
    _committed(_load)
    assert _roll(ANALYTICS_ROLLUP_CONNECTIONS=1) == []
    assert threads[1] != "analytics-rollup-companion"  # on the caller's own connection

    assert _state() == split
    bit = day_bit(DAY)[1]
    assert split["engagement"] == [(DAY, 3, 4)]  # two users and one anonymous device; four sessions
    assert split["windows"] == [(DAY, 3, 3, 3)]
    assert split["content"] == [(DAY, "leo", 1, 1)]
    assert split["fulfillment"] == [(DAY, "tarot", 8_001, 1, 1, [600])]
    assert [days for _, days in split["blocks"]] == [bit, bit, bit]
    assert len(split["first_days"]) == 3
    assert split["retention"] == [(DAY - dt.timedelta(days=2), 0, DAY, 3)]  # the week of Monday 10 March
    assert split["rolled"] == [(DAY, 7)]


def test_when_the_callers_half_fails_the_activity_half_is_rolled_back(march, monkeypatch):
    failing = (("metrics_daily_content", "SELECT 1 / 0", []),)
    monkeypatch.setattr(run, "EVENT_FAMILIES", run.EVENT_FAMILIES + failing)
    threads = _where_activity_runs(monkeypatch)

    failures = _roll()

    assert [type(failure) for failure in failures] == [DataError]
    assert threads == ["analytics-rollup-companion"]  # it ran, and nothing of it stayed
    assert _state() == NOTHING


def test_when_the_activity_half_fails_the_callers_half_is_rolled_back(march, monkeypatch):
    def failing(cursor, first, last):
        raise RuntimeError("the activity half failed")

    monkeypatch.setattr(run, "_windows", failing)

    failures = _roll()

    assert [str(failure) for failure in failures] == ["the activity half failed"]
    assert _state() == NOTHING
