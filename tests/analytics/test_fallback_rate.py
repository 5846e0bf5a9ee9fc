"""Fallback rate = failed attempts retried on another provider / failed attempts, filed under the attempt
that failed (its day, provider and country), so it stays within 0..1 in every group.

Business days in Asia/Riyadh (UTC+3): D1 = 9 Nov 2026, D2 = 10 Nov.
"""

import datetime as dt
from decimal import Decimal

import pytest

from analytics.rollups import rollup_days
from tests import factories
from tests.analytics.conftest import at, event
from tests.conftest import api_as

pytestmark = pytest.mark.django_db

D1, D2 = dt.date(2026, 11, 9), dt.date(2026, 11, 10)


def _attempt(when: str, provider: str, country: str, outcome: str, *, replaces=None, outcome_at: str = ""):
    """A payment row and the events its services emit: attempted (and fallback), then succeeded or failed."""
    payment = factories.PaymentFactory(
        provider=provider,
        country=country,
        status=outcome,
        attempt=replaces.attempt + 1 if replaces else 1,
        fallback_of=replaces,
        order=replaces.order if replaces else factories.OrderFactory(),
    )
    properties = {
        "provider": provider,
        "country": country,
        "amount": Decimal("25.00"),
        "currency": "USD",
        "attempt": payment.attempt,
        "order_id": payment.order_id,
    }
    if replaces:
        properties["fallback_of"] = replaces.pk
        event("payment.fallback", at(when), subject=payment, **properties)
    event("payment.attempted", at(when), subject=payment, **properties)
    event(f"payment.{outcome}", at(outcome_at or when), subject=payment, **properties)
    return payment


@pytest.fixture
def payments():
    # D1
    a = _attempt("2026-11-09 10:00", "stripe", "SA", "failed")
    _attempt("2026-11-09 10:02", "square", "SA", "succeeded", replaces=a)
    c = _attempt("2026-11-09 11:00", "stripe", "SA", "failed")
    d = _attempt("2026-11-09 11:02", "square", "SA", "failed", replaces=c)
    _attempt("2026-11-09 11:04", "manual", "SA", "succeeded", replaces=d)
    # 23:50 in Riyadh on D1; its fallback comes at 00:05 on D2 and is filed under this failure, on D1
    f = _attempt("2026-11-09 20:50", "stripe", "AE", "failed")
    _attempt("2026-11-09 21:05", "square", "AE", "succeeded", replaces=f)
    _attempt("2026-11-09 12:00", "square", "AE", "failed")
    _attempt("2026-11-09 12:30", "stripe", "SA", "succeeded")
    # D2
    j = _attempt("2026-11-10 10:00", "stripe", "SA", "failed")
    _attempt("2026-11-10 10:03", "manual", "SA", "succeeded", replaces=j)
    _attempt("2026-11-10 11:00", "stripe", "SA", "failed")
    _attempt("2026-11-10 12:00", "square", "SA", "failed")
    rollup_days(first=D1, last=D2)


def _metrics(admin, group_by: str) -> dict:
    response = api_as(admin).get("/metrics/payments", {"from": D1, "to": D2, "group_by": group_by})
    assert response.status_code == 200, response.json()
    keys = group_by.split(",") if group_by else []
    return {
        tuple(row[k] for k in keys): (row["failed"], row["fallbacks"], row["fallback_rate"])
        for row in response.json()["results"]
    }


def test_it_files_each_fallback_under_the_provider_and_country_that_failed(personas, payments):
    # (failed, fallbacks, rate); failures: stripe SA a, c, j and one more (a, c, j retried), square SA d
    # (retried) and one more, stripe AE f (retried), square AE one (not retried); manual never failed
    assert _metrics(personas["admin"], "provider,country") == {
        ("manual", "SA"): (0, 0, None),
        ("square", "AE"): (1, 0, 0.0),
        ("square", "SA"): (2, 1, 1 / 2),
        ("stripe", "AE"): (1, 1, 1.0),
        ("stripe", "SA"): (4, 3, 3 / 4),
    }
    assert _metrics(personas["admin"], "provider") == {
        ("manual",): (0, 0, None),
        ("square",): (3, 1, 1 / 3),
        ("stripe",): (5, 4, 4 / 5),
    }
    assert _metrics(personas["admin"], "country") == {("AE",): (2, 1, 1 / 2), ("SA",): (6, 4, 4 / 6)}
    assert _metrics(personas["admin"], "") == {(): (8, 5, 5 / 8)}


def test_it_files_a_fallback_on_the_day_of_the_failure_so_no_day_exceeds_one(personas, payments):
    # D1: a, c, d, f, square AE failed; a, c, d, f retried (f's retry on D2). D2: j (retried), two more.
    assert _metrics(personas["admin"], "day") == {("2026-11-09",): (5, 4, 4 / 5), ("2026-11-10",): (3, 1, 1 / 3)}
    by_day_and_provider = _metrics(personas["admin"], "day,provider")
    assert by_day_and_provider[("2026-11-09", "stripe")] == (3, 3, 1.0)
    assert by_day_and_provider[("2026-11-10", "square")] == (1, 0, 0.0)
    assert by_day_and_provider[("2026-11-10", "manual")] == (0, 0, None)
    assert all(rate is None or 0 <= rate <= 1 for _, _, rate in by_day_and_provider.values())
