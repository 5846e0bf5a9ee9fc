"""The nightly run recomputes the days of its late window whose events changed, and only those.

Days are business days in Asia/Riyadh (UTC+3): an event at 12:00 UTC falls on its UTC date.
"""

import datetime as dt

import pytest
from django.db import connection
from django.test import override_settings

from analytics.rollups import aggregates_purge, backfill, rollup_days, rollup_recent
from samia.rls.registry import Identity
from tests.analytics.conftest import at, event
from tests.conftest import rows_as

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 12)
WINDOW = [TODAY - dt.timedelta(days=n) for n in (3, 2, 1, 0)]  # 9..12 November


def _listen(day: dt.date, percent: int, actor: int = 1) -> None:
    event("horoscope.listened", at(f"{day} 12:00"), actor=actor, sign="leo", percent=percent)


def _listens() -> dict[dt.date, tuple[int, int]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT day, listens, listened_through FROM metrics_daily_content ORDER BY day")
        return {day: (listens, through) for day, listens, through in cursor.fetchall()}


def _rolled(result: dict) -> list[dt.date]:
    return [dt.date.fromisoformat(day) for day in result["rolled"]]


@pytest.fixture
def rolled_window():
    """Two listens on each day of the window (one through to the end), rolled up once by the nightly run."""
    for day in WINDOW:
        _listen(day, 100)
        _listen(day, 40)
    assert _rolled(rollup_recent(today=TODAY)) == WINDOW  # nothing recorded yet: every day is new
    assert _listens() == {day: (2, 1) for day in WINDOW}


def test_a_second_run_over_unchanged_events_recomputes_nothing(rolled_window):
    result = rollup_recent(today=TODAY)

    assert result["rolled"] == [] and (result["first"], result["last"]) == ("2026-11-09", "2026-11-12")
    assert _listens() == {day: (2, 1) for day in WINDOW}


def test_a_late_event_is_counted_and_only_its_day_is_recomputed(rolled_window):
    _listen(WINDOW[1], 95)

    assert _rolled(rollup_recent(today=TODAY)) == [WINDOW[1]]
    assert _listens()[WINDOW[1]] == (3, 2)


def test_the_run_covers_the_first_to_the_last_changed_day(rolled_window):
    _listen(WINDOW[0], 95)
    _listen(WINDOW[2], 95)

    assert _rolled(rollup_recent(today=TODAY)) == WINDOW[:3]
    assert [_listens()[day] for day in WINDOW] == [(3, 2), (2, 1), (3, 2), (2, 1)]


def test_a_withdrawn_event_makes_its_day_changed(rolled_window):
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM events_raw WHERE occurred_at = %s AND properties->>'percent' = '40'",
            [at(f"{WINDOW[2]} 12:00")],
        )

    assert _rolled(rollup_recent(today=TODAY)) == [WINDOW[2]]
    assert _listens()[WINDOW[2]] == (1, 1)


def test_one_event_replaced_by_another_on_the_same_day_is_a_change(rolled_window):
    """The same number of events, other ids: the count alone would miss it."""
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM events_raw WHERE occurred_at = %s AND properties->>'percent' = '40'",
            [at(f"{WINDOW[3]} 12:00")],
        )
    _listen(WINDOW[3], 100, actor=2)

    assert _rolled(rollup_recent(today=TODAY)) == [WINDOW[3]]
    assert _listens()[WINDOW[3]] == (2, 2)


def test_a_changed_listen_through_threshold_recomputes_every_day(rolled_window):
    with override_settings(ANALYTICS_LISTEN_THROUGH_PERCENT=40):
        assert _rolled(rollup_recent(today=TODAY)) == WINDOW
    assert _listens() == {day: (2, 2) for day in WINDOW}


def test_a_changed_business_timezone_recomputes_every_day(rolled_window):
    # 23:30 UTC on the 10th is the 11th in Riyadh and the 10th in London
    event("horoscope.listened", at(f"{WINDOW[1]} 23:30"), actor=3, sign="leo", percent=100)
    assert _rolled(rollup_recent(today=TODAY)) == [WINDOW[2]]

    with override_settings(ANALYTICS_TIMEZONE="Europe/London"):
        assert _rolled(rollup_recent(today=TODAY)) == WINDOW
    assert [_listens()[day] for day in WINDOW] == [(2, 1), (3, 2), (2, 1), (2, 1)]


def test_days_a_backfill_rolled_up_are_not_redone_by_the_nightly_run():
    for day in WINDOW:
        _listen(day, 100)
    backfill(first=WINDOW[0], last=TODAY)

    assert rollup_recent(today=TODAY)["rolled"] == []
    # an explicit range is always recomputed
    assert _rolled(rollup_days(first=WINDOW[0], last=WINDOW[1])) == WINDOW[:2]


def test_a_day_without_events_is_recorded_and_then_left_alone():
    assert _rolled(rollup_recent(today=TODAY)) == WINDOW
    assert rollup_recent(today=TODAY)["rolled"] == []

    _listen(TODAY, 100)
    assert _rolled(rollup_recent(today=TODAY)) == [TODAY]
    assert _listens() == {TODAY: (1, 1)}


def test_the_recorded_days_are_purged_with_the_aggregates(rolled_window):
    aggregates_purge(today=dt.date(2030, 1, 1))

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM analytics_rolled_up_day")
        assert cursor.fetchone()[0] == 0


@pytest.mark.parametrize("role", ["superadmin", "admin", "monitor", "reader", "client"])
def test_the_recorded_days_show_to_admins_only(rolled_window, personas, role):
    [(seen,)] = rows_as(Identity(personas[role].pk, role), "SELECT count(*) FROM analytics_rolled_up_day")

    assert seen == (len(WINDOW) if role in ("admin", "superadmin") else 0)
