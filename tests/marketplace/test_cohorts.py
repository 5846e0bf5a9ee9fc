import datetime as dt

import pytest

from samia.marketplace.cohorts import local_time_instant, users_at_local_time, zones_at_local_time
from tests import factories

NINE = dt.time(9, 0)


def utc(*args):
    return dt.datetime(*args, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        # New York is UTC-5 in winter, UTC-4 in summer; London UTC+0 / UTC+1; Riyadh always UTC+3.
        (utc(2026, 3, 7, 14, 0), ["America/New_York"]),  # the day before the US jump
        (utc(2026, 3, 8, 13, 0), ["America/New_York"]),  # the day of the jump: one hour earlier in UTC
        (utc(2026, 3, 8, 14, 0), []),
        (utc(2026, 3, 29, 8, 0), ["Europe/London"]),  # after the EU jump
        (utc(2026, 3, 28, 9, 0), ["Europe/London"]),  # before it
        (utc(2026, 3, 28, 6, 0), ["Asia/Riyadh"]),
        (utc(2026, 3, 28, 3, 30), ["Asia/Kolkata"]),  # UTC+5:30
    ],
)
def test_it_finds_the_zones_at_a_local_time_across_daylight_saving(instant, expected):
    zones = ["America/New_York", "Europe/London", "Asia/Riyadh", "Asia/Kolkata"]

    assert zones_at_local_time(local_time=NINE, instant=instant, zones=zones) == expected


def test_it_matches_nobody_at_a_skipped_time_and_twice_at_a_repeated_one():
    zone = ["America/New_York"]
    gap = [utc(2026, 3, 8, h, m) for h in range(5, 9) for m in (0, 30)]
    fold = [utc(2026, 11, 1, h, m) for h in range(4, 8) for m in (0, 30)]

    assert [i for i in gap if zones_at_local_time(local_time=dt.time(2, 30), instant=i, zones=zone)] == []
    assert [i for i in fold if zones_at_local_time(local_time=dt.time(1, 30), instant=i, zones=zone)] == [
        utc(2026, 11, 1, 5, 30),
        utc(2026, 11, 1, 6, 30),
    ]


def test_it_refuses_a_naive_instant():
    with pytest.raises(ValueError):
        zones_at_local_time(local_time=NINE, instant=dt.datetime(2026, 1, 1, 9), zones=["UTC"])


@pytest.mark.parametrize(
    ("day", "local", "zone", "expected"),
    [
        (dt.date(2026, 3, 8), dt.time(9, 0), "America/New_York", utc(2026, 3, 8, 13, 0)),
        (dt.date(2026, 3, 7), dt.time(9, 0), "America/New_York", utc(2026, 3, 7, 14, 0)),
        (dt.date(2026, 3, 8), dt.time(2, 30), "America/New_York", utc(2026, 3, 8, 7, 0)),  # gap: when clocks jump
        (dt.date(2026, 11, 1), dt.time(1, 30), "America/New_York", utc(2026, 11, 1, 5, 30)),  # fold: first time
        (dt.date(2026, 10, 25), dt.time(9, 0), "Europe/London", utc(2026, 10, 25, 9, 0)),
        (dt.date(2026, 6, 1), dt.time(0, 15), "Asia/Riyadh", utc(2026, 5, 31, 21, 15)),
    ],
)
def test_it_computes_the_utc_instant_of_a_local_time(day, local, zone, expected):
    assert local_time_instant(day=day, local_time=local, zone=zone) == expected


@pytest.mark.django_db
def test_it_returns_the_users_of_the_matching_cohorts():
    new_yorker = factories.UserFactory(timezone="America/New_York")
    factories.UserFactory(timezone="Asia/Riyadh")
    londoner = factories.UserFactory(timezone="Europe/London")

    at_nine = users_at_local_time(local_time=NINE, instant=utc(2026, 3, 8, 13, 0))
    at_nine_london = users_at_local_time(local_time=NINE, instant=utc(2026, 7, 1, 8, 0))

    assert list(at_nine) == [new_yorker]
    assert list(at_nine_london) == [londoner]
