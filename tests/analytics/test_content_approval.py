"""Horoscope approval in /metrics/content: submitted, approved and rejected per day (the horoscope's date)
and language, creation-to-approval p50/p90, and the share of the signs' cohort pushes approved in time.

Cohorts are the time zones of clients of each sign; a cohort's push is NOTIFICATIONS_ZODIAC_LOCAL_TIME
(09:00) local on the horoscope's date. On 9 and 10 Nov 2026: Riyadh 06:00 UTC, London 09:00 UTC,
New York 14:00 UTC.
"""

import datetime as dt

import pytest
from django.test import override_settings

from analytics.rollups import rollup_days, rollup_recent
from analytics.selectors import RESULT_FIELDS
from samia.marketplace.models import Horoscope
from tests import factories
from tests.analytics.conftest import at, event
from tests.conftest import api_as

pytestmark = pytest.mark.django_db

D1, D2 = dt.date(2026, 11, 9), dt.date(2026, 11, 10)
ARIES, LEO = dt.date(1990, 4, 1), dt.date(1990, 8, 1)


def _horoscope(sign: str, date: dt.date, created: str, status: str = "pending", approved: str = "", **texts):
    return factories.HoroscopeFactory(
        sign=sign,
        date=date,
        created_at=at(created),
        approval_status=status,
        approved_at=at(approved) if approved else None,
        **texts,
    )


@pytest.fixture
def horoscopes(personas):
    # aries clients in three zones, leo clients in two; a reader's sign is no cohort
    for zone in ("Asia/Riyadh", "Europe/London", "America/New_York", "Asia/Riyadh"):
        factories.UserFactory(timezone=zone, date_of_birth=ARIES)
    for zone in ("Asia/Riyadh", "Europe/London"):
        factories.UserFactory(timezone=zone, date_of_birth=LEO)
    factories.UserFactory(role="reader", timezone="Asia/Tokyo", date_of_birth=LEO)
    # D1: aries approved at 07:00 UTC, after Riyadh's push and before London's and New York's
    _horoscope("aries", D1, "2026-11-07 10:00", "approved", "2026-11-09 07:00")  # 162000 s
    _horoscope("leo", D1, "2026-11-08 12:00", "approved", "2026-11-08 13:00")  # 3600 s, before both
    _horoscope("virgo", D1, "2026-11-08 09:00", "rejected")  # no virgo clients: no pushes
    _horoscope("cancer", D1, "2026-11-08 09:30")  # still pending
    # D2: aries approved at 10:00 UTC, before New York's push only; gemini written in English only
    _horoscope("aries", D2, "2026-11-08 10:00", "approved", "2026-11-10 10:00")  # 172800 s
    _horoscope("leo", D2, "2026-11-09 08:00", "approved", "2026-11-09 08:30")  # 1800 s
    _horoscope("gemini", D2, "2026-11-09 00:00", "approved", "2026-11-09 02:00", text_ar="")  # 7200 s
    event("horoscope.listened", at("2026-11-09 12:00"), actor=1, sign="leo", percent=95)
    rollup_days(first=D1, last=D2)


KEYS = (
    "submitted",
    "approved",
    "rejected",
    "approval_p50_seconds",
    "approval_p90_seconds",
    "cohort_pushes",
    "approved_before_push",
    "approved_before_push_rate",
)


def _content(admin, group_by: str) -> dict:
    response = api_as(admin).get("/metrics/content", {"from": D1, "to": D2, "group_by": group_by})
    assert response.status_code == 200, response.json()
    names = group_by.split(",") if group_by else []
    return {tuple(row[n] for n in names): tuple(row[k] for k in KEYS) for row in response.json()["results"]}


def test_approval_per_day(personas, horoscopes):
    assert _content(personas["admin"], "day") == {
        # [3600, 162000]: p50 82800, p90 3600 + 0.9 * 158400; pushes aries 3 (2 in time) + leo 2 (2)
        ("2026-11-09",): (4, 2, 1, 82800, 146160, 5, 4, 4 / 5),
        # [1800, 7200, 172800]: p50 7200, p90 at rank 1.8 = 7200 + 0.8 * 165600; aries 3 (1) + leo 2 (2)
        ("2026-11-10",): (3, 3, 0, 7200, 139680, 5, 3, 3 / 5),
    }


def test_approval_per_day_and_language(personas, horoscopes):
    by_language = _content(personas["admin"], "day,language")

    assert by_language == {
        ("2026-11-09", "ar"): (4, 2, 1, 82800, 146160, 5, 4, 4 / 5),
        ("2026-11-09", "en"): (4, 2, 1, 82800, 146160, 5, 4, 4 / 5),
        # gemini has no Arabic text: [1800, 172800] -> p50 87300, p90 1800 + 0.9 * 171000
        ("2026-11-10", "ar"): (2, 2, 0, 87300, 155700, 5, 3, 3 / 5),
        ("2026-11-10", "en"): (3, 3, 0, 7200, 139680, 5, 3, 3 / 5),
    }
    assert _content(personas["admin"], "language") == {
        # [1800, 3600, 162000, 172800]: p50 at rank 1.5 = 3600 + 0.5 * 158400, p90 at 2.7 = 162000 + 0.7 * 10800
        ("ar",): (6, 4, 1, 82800, 169560, 10, 7, 7 / 10),
        # [1800, 3600, 7200, 162000, 172800]: p50 7200, p90 at rank 3.6 = 162000 + 0.6 * 10800
        ("en",): (7, 5, 1, 7200, 168480, 10, 7, 7 / 10),
    }


def test_per_sign_the_listens_and_the_horoscope_share_a_row(personas, horoscopes):
    response = api_as(personas["admin"]).get("/metrics/content", {"from": D1, "to": D1, "group_by": "sign"})

    rows = {row["sign"]: row for row in response.json()["results"]}
    assert (rows["leo"]["listens"], rows["leo"]["submitted"], rows["leo"]["approved_before_push_rate"]) == (1, 1, 1.0)
    assert (rows["aries"]["listens"], rows["aries"]["approved_before_push"], rows["aries"]["cohort_pushes"]) == (
        0,
        2,
        3,
    )
    assert (rows["virgo"]["rejected"], rows["virgo"]["approved_before_push_rate"]) == (1, None)


@override_settings(NOTIFICATIONS_ZODIAC_LOCAL_TIME="11:00")
def test_the_push_time_is_the_zodiac_setting(personas, horoscopes):
    rollup_days(first=D1, last=D1)

    # pushes at 08:00, 11:00 and 16:00 UTC: aries (07:00) is now in time everywhere
    assert _content(personas["admin"], "day")[("2026-11-09",)][5:] == (5, 5, 1.0)


def test_an_approval_alone_makes_its_day_changed_for_the_nightly_run(personas, horoscopes):
    assert rollup_recent(today=D2)["rolled"] == ["2026-11-07", "2026-11-08"]  # never rolled up before
    Horoscope.objects.filter(sign="cancer", date=D1).update(
        approval_status="approved", approved_at=at("2026-11-09 05:00")
    )

    assert rollup_recent(today=D2)["rolled"] == ["2026-11-09"]
    assert _content(personas["admin"], "day")[("2026-11-09",)][:3] == (4, 3, 1)


def test_each_family_returns_exactly_the_fields_its_schema_names(personas, horoscopes):
    for family, fields in RESULT_FIELDS.items():
        response = api_as(personas["admin"]).get(f"/metrics/{family}", {"from": D1, "to": D2, "group_by": "day"})

        assert response.status_code == 200, family
        assert all(set(row) == {"day", *fields} for row in response.json()["results"]), family


def test_a_listen_counts_once_per_person_horoscope_and_day_at_its_highest_percent(personas):
    horoscope = ("marketplace.horoscope", 41)
    # the listen route appends an event each time the day's percent rises
    for when, actor, percent in [
        ("2026-11-09 08:00", 1, 30),
        ("2026-11-09 08:01", 1, 60),
        ("2026-11-09 08:02", 1, 95),  # one listen, through
        ("2026-11-09 09:00", 2, 40),  # another person: a listen, not through
        ("2026-11-10 08:00", 1, 50),  # the next day: a listen of its own
    ]:
        event("horoscope.listened", at(when), actor=actor, subject=horoscope, sign="leo", percent=percent)
    rollup_days(first=D1, last=D2)

    response = api_as(personas["admin"]).get("/metrics/content", {"from": D1, "to": D2, "group_by": "day"})

    assert [(r["day"], r["listens"], r["listened_through"]) for r in response.json()["results"]] == [
        ("2026-11-09", 2, 1),
        ("2026-11-10", 1, 0),
    ]
