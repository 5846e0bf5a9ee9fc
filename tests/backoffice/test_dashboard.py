"""The back office's home (issue 15, item 2): each role's dashboard, its figures against a small world
counted by hand, and the filtered changelist behind every figure.

Alice the admin sees every widget; Bob the monitor only what the declarations let monitors read
(cases, orders, the moderation KPIs); the figures are the rollups', never the raw events'.
"""

import datetime as dt
import re
from html import unescape

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from analytics.models import DailyActiveUsers, DailyCalls, DailyFulfillment, DailyModeration, DailyPayments
from backoffice.selectors import business_today
from moderation.models import Case, ReasonCode
from tests.factories import PASSWORD, OrderFactory

pytestmark = pytest.mark.django_db


def _logged_in(user) -> Client:
    client = Client()
    assert client.post("/backoffice/login/", {"username": user.email, "password": PASSWORD}).status_code == 302
    return client


def _case(subject, priority, due, status="open"):
    reason = ReasonCode.objects.order_by("code").first()
    extra = {"resolved_at": timezone.now()} if status == "resolved" else {}
    return Case.objects.create(
        subject=subject, reason=reason, priority=priority, sla_due_at=due, status=status, **extra
    )


@pytest.fixture
def small_world(world):
    now = timezone.now()
    p = world["personas"]
    oldest_critical = now - dt.timedelta(hours=3)
    _case(p["client"], "critical", oldest_critical)
    _case(p["client"], "critical", now + dt.timedelta(hours=1))
    _case(p["reader"], "high", now - dt.timedelta(minutes=5))
    _case(p["reader"], "low", now - dt.timedelta(days=1), status="resolved")
    stuck = world["orders"]["awaiting"]
    stuck.submitted_at = now - dt.timedelta(hours=30)
    stuck.save(update_fields=["submitted_at"])
    OrderFactory(client=p["client"], reader=p["reader"], status="awaiting_approval", submitted_at=now)
    today = business_today()
    before = today - dt.timedelta(days=3)
    DailyFulfillment.objects.create(
        day=today, service="tarot", created=4, approved=3, rejected=1, delivered=2, ttf_delivery_seconds=[3600, 7200]
    )
    DailyFulfillment.objects.create(
        day=before, service="tarot", created=6, approved=1, rejected=3, delivered=1, ttf_delivery_seconds=[10800]
    )
    DailyModeration.objects.create(day=today, approved=3, rejected=1, delivered=2, calls_dropped=1, calls_ended=3)
    DailyPayments.objects.create(day=today, provider="stripe", country="SA", attempts=4, succeeded=3, failed=1)
    DailyPayments.objects.create(day=before, provider="square", country="SA", attempts=2, succeeded=1, failed=1)
    DailyCalls.objects.create(day=today, scheduled=4, answered=3, dropped=1, ended=2)
    DailyActiveUsers.objects.create(day=today - dt.timedelta(days=1), dau=5, wau=12, mau=40)
    return {"oldest_critical": oldest_critical}


def _tiles(dashboard) -> dict:
    return {tile["title"]: tile["value"] for tile in dashboard["kpis"]["tiles"]}


def test_it_shows_an_admin_every_widget_with_hand_counted_figures(world, small_world):
    # when
    response = _logged_in(world["personas"]["admin"]).get("/backoffice/")

    # then
    assert response.status_code == 200
    d = response.context["dashboard"]
    cases = {row["priority"]: (row["open"], row["overdue"], row["oldest_due"]) for row in d["cases"]["rows"]}
    assert cases == {
        "critical": (2, 1, small_world["oldest_critical"]),
        "high": (1, 1, cases["high"][2]),
        "medium": (0, 0, None),
        "low": (0, 0, None),
    }
    orders = {row["status"]: row["count"] for row in d["orders"]["statuses"]}
    assert orders == {
        "new": 2,
        "assigned": 1,
        "in_progress": 1,
        "awaiting_approval": 2,
        "approved": 1,
        "rejected": 0,
        "on_hold": 0,
    }
    assert d["orders"]["stuck"] == 1
    assert d["kpis"]["families"] == ["fulfillment", "payments", "calls", "engagement"]
    tiles = _tiles(d)
    assert tiles["Orders created (Today)"] == 4
    assert tiles["Orders created (30 days)"] == 10
    assert tiles["Approval rate (Today)"] == 75.0
    assert tiles["Approval rate (30 days)"] == 50.0
    assert tiles["TTF-Delivery p50 (Today)"] == 1.5  # percentile_cont of 1 h and 2 h
    assert tiles["TTF-Delivery p90 (30 days)"] == 2.8  # of 1 h, 2 h and 3 h
    assert tiles["Call answer rate (today)"] == 75.0
    yesterday = business_today() - dt.timedelta(days=1)
    assert [tiles[f"{name} ({yesterday})"] for name in ("DAU", "WAU", "MAU")] == [5, 12, 40]
    payments = next(chart for chart in d["kpis"]["charts"] if chart["title"].startswith("Payment success"))
    assert '"labels": ["square", "stripe"]' in payments["data"]
    assert '"data": [50.0, 75.0]' in payments["data"]
    assert d["campaigns"] == []
    # every configured provider (other apps add theirs), the messaging ones included
    assert {provider["name"] for provider in d["providers"]} == set(settings.PROVIDERS)
    assert {"apns", "fcm", "sms", "whatsapp"} <= set(settings.PROVIDERS)
    assert d["audit"]["open_tamper_cases"] == 0
    assert b'id="kpis"' in response.content and b'class="chart"' in response.content


def test_it_shows_a_monitor_only_what_monitors_may_read(world, small_world):
    # when
    response = _logged_in(world["personas"]["monitor"]).get("/backoffice/")

    # then
    assert response.status_code == 200
    d = response.context["dashboard"]
    assert [row["open"] for row in d["cases"]["rows"]] == [2, 1, 0, 0]
    assert d["orders"]["stuck"] == 1
    assert d["kpis"]["families"] == ["moderation"]
    assert _tiles(d) == {
        "Approved (Today)": 3,
        "Rejected (Today)": 1,
        "Approval rate (Today)": 75.0,
        "Approved (30 days)": 3,
        "Rejected (30 days)": 1,
        "Approval rate (30 days)": 75.0,
    }
    assert (d["campaigns"], d["providers"], d["audit"]) == (None, None, None)
    for absent in (b'id="campaigns"', b'id="providers"', b'id="audit"', b"Payment success", b"DAU"):
        assert absent not in response.content


@pytest.mark.parametrize("role", ["monitor", "admin"])
def test_it_links_every_figure_to_the_changelist_that_lists_exactly_it(world, small_world, role):
    client = _logged_in(world["personas"][role])
    d = client.get("/backoffice/").context["dashboard"]
    expected = {}
    for row in d["cases"]["rows"]:
        expected[row["link"]] = row["open"]
        expected[row["overdue_link"]] = row["overdue"]
    for row in d["orders"]["statuses"]:
        expected[row["link"]] = row["count"]
    expected[d["orders"]["stuck_link"]] = d["orders"]["stuck"]

    for link, count in expected.items():
        # when
        response = client.get(link)

        # then: the list opens filtered (no "?e=1" redirect for an unknown filter) and lists the figure
        assert response.status_code == 200, link
        assert response.context["cl"].result_count == count, link
    html = client.get("/backoffice/").content.decode()
    for link in re.findall(r'href="(/backoffice/[^"]+\?[^"]*)"', html):
        assert client.get(unescape(link)).status_code == 200, link


def test_the_provider_status_reads_settings_without_the_circuit_breakers(monkeypatch):
    from backoffice import selectors
    from samia.providers import registry

    def guarded(name):
        raise AssertionError(f"the dashboard asked {name}'s toggle and circuit breaker")

    monkeypatch.setattr(registry, "get", guarded)

    status = selectors.provider_status()

    assert [row["name"] for row in status] == sorted(settings.PROVIDERS)
    assert all(isinstance(row["configured"], bool) for row in status)
