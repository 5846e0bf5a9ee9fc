"""Refund rate = delivered orders with a refund / delivered orders, on the delivery's day; cancellation
refund rate = cancelled orders with a refund / cancelled orders, on the cancellation's day. Both within 0..1.

Business days in Asia/Riyadh (UTC+3): D1 = 9 Nov 2026, D2 = 10 Nov.
"""

import datetime as dt

import pytest

from analytics.rollups import rollup_days, rollup_recent
from tests.analytics.conftest import at, order_event
from tests.conftest import api_as

pytestmark = pytest.mark.django_db

D1, D2 = dt.date(2026, 11, 9), dt.date(2026, 11, 10)


def _order(order_id: int, service: str, reader, *steps: tuple[str, str]) -> None:
    for action, when in steps:
        order_event(action, order_id, at(when), service=service, reader_id=None if action == "created" else reader)


@pytest.fixture
def orders(readers):
    r1, r2 = readers
    # delivered
    _order(
        201,
        "tarot",
        r1,
        ("created", "2026-11-09 06:00"),
        ("delivered", "2026-11-09 08:00"),
        ("refunded", "2026-11-10 09:00"),
    )
    _order(202, "tarot", r1, ("created", "2026-11-09 06:10"), ("delivered", "2026-11-09 09:00"))
    _order(
        203,
        "coffee",
        r2,
        ("created", "2026-11-09 07:00"),
        ("delivered", "2026-11-10 10:00"),
        ("refunded", "2026-11-10 12:00"),
    )
    _order(208, "coffee", r2, ("created", "2026-11-09 07:30"), ("delivered", "2026-11-10 11:00"))
    _order(
        207,
        "astro",
        r2,
        ("created", "2026-11-09 05:00"),
        ("delivered", "2026-11-09 10:00"),
        ("refunded", "2026-11-10 08:00"),
    )
    # cancelled (no reader)
    _order(
        204,
        "tarot",
        None,
        ("created", "2026-11-09 07:00"),
        ("cancelled", "2026-11-09 07:30"),
        ("refunded", "2026-11-09 07:45"),
    )
    _order(
        205,
        "tarot",
        None,
        ("created", "2026-11-09 08:00"),
        ("cancelled", "2026-11-10 08:00"),
        ("refunded", "2026-11-10 08:30"),
    )
    _order(209, "tarot", None, ("created", "2026-11-10 09:00"), ("cancelled", "2026-11-10 09:10"))
    _order(206, "coffee", None, ("created", "2026-11-10 09:00"), ("cancelled", "2026-11-10 09:20"))
    rollup_days(first=D1, last=D2)


KEYS = ("delivered", "delivered_refunded", "refund_rate", "cancelled", "cancelled_refunded", "cancellation_refund_rate")


def _rates(user, group_by: str, **query) -> dict:
    response = api_as(user).get("/metrics/fulfillment", {"from": D1, "to": D2, "group_by": group_by, **query})
    assert response.status_code == 200, response.json()
    names = group_by.split(",") if group_by else []
    return {tuple(row[n] for n in names): tuple(row[k] for k in KEYS) for row in response.json()["results"]}


def test_refunds_are_split_by_what_was_refunded_per_day_and_service(personas, orders):
    assert _rates(personas["admin"], "day,service") == {
        # 201 refunded the next day, 202 not; 204 cancelled and refunded
        ("2026-11-09", "tarot"): (2, 1, 1 / 2, 1, 1, 1.0),
        ("2026-11-09", "astro"): (1, 1, 1.0, 0, 0, None),
        ("2026-11-09", "coffee"): (0, 0, None, 0, 0, None),  # only creations
        # the refunds of 201 and 207 are filed on their delivery day, not here
        ("2026-11-10", "astro"): (0, 0, None, 0, 0, None),
        ("2026-11-10", "coffee"): (2, 1, 1 / 2, 1, 0, 0.0),
        ("2026-11-10", "tarot"): (0, 0, None, 2, 1, 1 / 2),
    }
    assert _rates(personas["admin"], "") == {(): (5, 3, 3 / 5, 4, 2, 2 / 4)}


def test_refund_events_still_count_on_their_own_day(personas, orders):
    response = api_as(personas["admin"]).get("/metrics/fulfillment", {"from": D1, "to": D2, "group_by": "day"})

    assert {row["day"]: row["refunded"] for row in response.json()["results"]} == {"2026-11-09": 1, "2026-11-10": 4}


def test_a_reader_sees_the_refund_rate_of_their_own_deliveries(personas, orders):
    assert _rates(personas["reader"], "day") == {
        ("2026-11-09",): (2, 1, 1 / 2, 0, 0, None),
        ("2026-11-10",): (0, 0, None, 0, 0, None),
    }
    response = api_as(personas["monitor"]).get("/metrics/moderation", {"from": D1, "to": D2, "group_by": "reader"})
    by_reader = {
        row["reader"]: (row["delivered"], row["delivered_refunded"], row["refund_rate"])
        for row in response.json()["results"]
    }
    r1, r2 = personas["reader"].pk, personas["other_reader"].pk
    # the refunds of the cancelled orders (no reader) have a row of their own, with no deliveries
    assert by_reader == {r1: (2, 1, 1 / 2), r2: (3, 2, 2 / 3), None: (0, 0, None)}


def test_a_late_refund_recomputes_the_day_of_the_delivery(personas, orders):
    order_event("refunded", 202, at("2026-11-13 09:00"), reader_id=personas["reader"].pk)

    result = rollup_recent(today=dt.date(2026, 11, 13))  # re-checks 10..13 November

    assert result["also"] == ["2026-11-09"]
    assert _rates(personas["admin"], "day,service")[("2026-11-09", "tarot")] == (2, 2, 1.0, 1, 1, 1.0)
