"""rollup_days: a late order event recomputes the TTF of days outside the range it was asked for."""

import datetime as dt

import pytest
from django.db import connection

from analytics.rollups import rollup_days
from tests.analytics.conftest import at, order_event

pytestmark = pytest.mark.django_db

D1, D2 = dt.date(2026, 11, 9), dt.date(2026, 11, 10)  # business days in Asia/Riyadh (UTC+3, no DST)


def test_a_late_creation_recomputes_the_delivery_day_outside_the_range(readers):
    r1, _ = readers
    order_event("delivered", 107, at("2026-11-10 12:00"), reader_id=r1)
    rollup_days(first=D1, last=D2)
    order_event("created", 107, at("2026-11-09 12:00"))

    result = rollup_days(first=D1, last=D1)

    assert result["also"] == ["2026-11-10"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT ttf_delivery_seconds FROM metrics_daily_fulfillment WHERE day = %s", [D2])
        assert cursor.fetchall() == [([86400],)]


def test_a_late_earlier_start_moves_the_ttf_out_of_the_old_start_day(readers):
    r1, _ = readers
    order_event("created", 108, at("2026-11-09 06:00"))
    order_event("started", 108, at("2026-11-11 06:00"), reader_id=r1)  # TTF-Response 172800 s, on the 11th
    rollup_days(first=D1, last=dt.date(2026, 11, 11))
    order_event("started", 108, at("2026-11-10 06:00"), reader_id=r1)  # an earlier start, reported late

    result = rollup_days(first=D2, last=D2)

    assert result["also"] == ["2026-11-11"]  # the old start day, outside the range
    with connection.cursor() as cursor:
        cursor.execute("SELECT day, ttf_response_seconds FROM metrics_daily_fulfillment WHERE started > 0")
        assert cursor.fetchall() == [(D2, [86400]), (dt.date(2026, 11, 11), [])]


def test_an_order_that_only_gained_its_delivery_leaves_its_start_day_alone(readers):
    r1, _ = readers
    order_event("created", 109, at("2026-11-09 06:00"))
    order_event("started", 109, at("2026-11-09 07:00"), reader_id=r1)
    rollup_days(first=D1, last=D1)
    order_event("delivered", 109, at("2026-11-10 06:00"), reader_id=r1)

    assert rollup_days(first=D2, last=D2)["also"] == []
