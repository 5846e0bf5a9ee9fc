"""M23: every KPI against a hand-built dataset, with the expected values worked out by hand."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test import override_settings

from analytics.rollups import FAMILIES, rollup_days, rollup_recent
from samia.rls.registry import Identity
from tests.analytics.conftest import at, event, order_event
from tests.conftest import api_as, rows_as

pytestmark = pytest.mark.django_db

D1, D2 = dt.date(2026, 11, 9), dt.date(2026, 11, 10)  # business days in Asia/Riyadh (UTC+3, no DST)


def _orders(r1: int, r2: int) -> None:
    """Orders 101-105 and the first half of 106 (its order.created arrives late, see the tests)."""
    for action, when in [
        ("created", "06:00"),
        ("assigned", "06:05"),
        ("started", "06:10"),  # TTF-Response 600 s
        ("submitted", "06:50"),
        ("approved", "07:00"),
        ("delivered", "08:00"),  # TTF-Delivery 7200 s
    ]:
        order_event(action, 101, at(f"2026-11-09 {when}"), reader_id=None if action == "created" else r1)
    for action, when in [
        ("created", "07:00"),
        ("assigned", "07:05"),
        ("started", "07:20"),  # 1200 s
        ("submitted", "08:00"),
        ("rejected", "08:06"),
        ("submitted", "08:30"),
        ("approved", "08:40"),
        ("delivered", "09:30"),  # 9000 s
    ]:
        order_event(action, 102, at(f"2026-11-09 {when}"), reader_id=None if action == "created" else r1)
    for action, when in [
        ("created", "08:00"),
        ("assigned", "08:10"),
        ("started", "08:30"),  # 1800 s
        ("submitted", "10:00"),
        ("approved", "10:30"),
        ("delivered", "11:00"),  # 10800 s
    ]:
        order_event(
            action, 103, at(f"2026-11-09 {when}"), service="coffee", reader_id=None if action == "created" else r2
        )
    order_event("created", 104, at("2026-11-09 08:30"))
    order_event("cancelled", 104, at("2026-11-09 08:31:40"))
    # 22:30 UTC is 01:30 on 10 November in Riyadh: business day D2.
    order_event("created", 105, at("2026-11-09 22:30"))
    order_event("assigned", 105, at("2026-11-09 22:32"), reader_id=r1)
    order_event("started", 105, at("2026-11-09 22:35"), reader_id=r1)  # 300 s, on D2
    # A refund after delivery, the next day.
    order_event("refunded", 101, at("2026-11-10 09:00"), reader_id=r1)
    # Order 106 is started on D1; its creation event reaches events_raw only after the first rollup.
    order_event("started", 106, at("2026-11-09 05:40"), reader_id=r2)


def _late_creation_of_106() -> None:
    order_event("created", 106, at("2026-11-09 05:00"))  # TTF-Response 2400 s


def _fulfillment(user, **query):
    response = api_as(user).get("/metrics/fulfillment", {"from": D1, "to": D2, **query})
    assert response.status_code == 200, response.json()
    return response.json()["results"]


def test_fulfillment_kpis_with_late_events(personas, readers):
    # given the orders, rolled up once before 106's creation event arrives
    _orders(*readers)
    rollup_days(first=D1, last=D2)
    admin = personas["admin"]

    [d1] = _fulfillment(admin, to=D1)
    # TTF-Response on D1: [600, 1200, 1800] -> p50 1200; p90 at rank 0.9*2 = 1.8 -> 1200 + 0.8*600
    assert (d1["ttf_response_p50_seconds"], d1["ttf_response_p90_seconds"]) == (1200, 1680)
    assert (d1["created"], d1["started"]) == (4, 4)

    # when the late event arrives and the nightly job re-runs its late window (3 days before 12 Nov)
    _late_creation_of_106()
    rollup_recent(today=dt.date(2026, 11, 12))

    # then D1 counts 106: TTF-Response [600, 1200, 1800, 2400] -> p50 1500, p90 1800 + 0.7*600
    [d1] = _fulfillment(admin, to=D1)
    assert (d1["ttf_response_p50_seconds"], d1["ttf_response_p90_seconds"]) == (1500, 2220)
    # TTF-Delivery on D1: [7200, 9000, 10800] -> p50 9000, p90 9000 + 0.8*1800
    assert (d1["ttf_delivery_p50_seconds"], d1["ttf_delivery_p90_seconds"]) == (9000, 10440)
    # the refund came the next day; it is filed on the day its order was delivered
    assert (d1["refunded"], d1["delivered_refunded"], d1["refund_rate"]) == (0, 1, 1 / 3)

    [both] = _fulfillment(admin)
    assert {k: both[k] for k in ("created", "assigned", "started", "submitted", "approved", "rejected")} == {
        "created": 6,
        "assigned": 4,
        "started": 5,
        "submitted": 4,
        "approved": 3,
        "rejected": 1,
    }
    assert (both["delivered"], both["cancelled"], both["refunded"]) == (3, 1, 1)
    assert both["approval_rate"] == 3 / 4
    assert both["refund_rate"] == 1 / 3
    # D1..D2: [300, 600, 1200, 1800, 2400] -> p50 1200; p90 at rank 3.6 -> 1800 + 0.6*600
    assert (both["ttf_response_p50_seconds"], both["ttf_response_p90_seconds"]) == (1200, 2160)

    by_service = {row["service"]: row for row in _fulfillment(admin, group_by="service")}
    # tarot: [300, 600, 1200, 2400] -> p50 900; p90 at rank 2.7 -> 1200 + 0.7*1200
    assert (by_service["tarot"]["ttf_response_p50_seconds"], by_service["tarot"]["ttf_response_p90_seconds"]) == (
        900,
        2040,
    )
    assert by_service["coffee"]["ttf_response_p50_seconds"] == 1800


def test_a_reader_sees_only_their_own_performance(personas, readers):
    r1, r2 = readers
    _orders(r1, r2)
    _late_creation_of_106()
    rollup_days(first=D1, last=D2)

    [mine] = _fulfillment(personas["reader"])

    # r1 has 101, 102 and 105: TTF-Response [300, 600, 1200] -> p50 600, p90 600 + 0.8*600;
    # TTF-Delivery [7200, 9000] -> p50 8100, p90 7200 + 0.9*1800; one refund for two deliveries.
    assert (mine["ttf_response_p50_seconds"], mine["ttf_response_p90_seconds"]) == (600, 1080)
    assert (mine["ttf_delivery_p50_seconds"], mine["ttf_delivery_p90_seconds"]) == (8100, 8820)
    assert (mine["created"], mine["assigned"], mine["approved"], mine["rejected"], mine["delivered"]) == (0, 3, 2, 1, 2)
    assert mine["refund_rate"] == 1 / 2
    assert mine["approval_rate"] == 2 / 3
    # the database agrees: bound as r1, only r1's rows exist
    identity = Identity(r1, "reader")
    assert rows_as(identity, "SELECT DISTINCT reader_id FROM metrics_daily_fulfillment") == [(r1,)]
    assert rows_as(identity, "SELECT DISTINCT reader_id FROM metrics_daily_moderation") == [(r1,)]
    assert rows_as(identity, "SELECT count(*) FROM metrics_daily_payments") == [(0,)]
    assert rows_as(Identity(personas["client"].pk, "client"), "SELECT count(*) FROM metrics_daily_fulfillment") == [
        (0,)
    ]
    # group_by=reader cannot reveal anyone else
    assert [row["reader"] for row in _fulfillment(personas["reader"], group_by="reader")] == [r1]
    admin_readers = {row["reader"] for row in _fulfillment(personas["admin"], group_by="reader")}
    assert admin_readers == {None, r1, r2}


def _all_rows() -> dict:
    rows = {}
    with connection.cursor() as cursor:
        for table, _, _ in FAMILIES:
            cursor.execute(f"SELECT * FROM {table} ORDER BY 2, 3")
            columns = [c.name for c in cursor.description]
            rows[table] = sorted(
                (tuple(v for c, v in zip(columns, row, strict=True) if c != "id") for row in cursor.fetchall()),
                key=repr,
            )
        cursor.execute("SELECT * FROM analytics_order_timeline ORDER BY 1")
        rows["timeline"] = cursor.fetchall()
        cursor.execute("SELECT * FROM metrics_actor_first_seen ORDER BY 1")
        rows["first_seen"] = cursor.fetchall()
        cursor.execute("SELECT * FROM metrics_retention_cohort ORDER BY 1, 2, 3")
        rows["retention"] = [row[1:] for row in cursor.fetchall()]
        cursor.execute("SELECT * FROM metrics_daily_active_users ORDER BY 1")
        rows["windows"] = [row[1:] for row in cursor.fetchall()]
    return rows


def test_rollups_are_idempotent(readers):
    _orders(*readers)
    _sessions()
    rollup_days(first=dt.date(2026, 11, 1), last=D2)
    first = _all_rows()

    rollup_days(first=dt.date(2026, 11, 1), last=D2)
    rollup_days(first=D1, last=D1)

    assert _all_rows() == first
    assert first["metrics_daily_fulfillment"] and first["metrics_actor_activity_block"]


def test_payment_kpis_through_the_services_with_a_fallback_chain(personas):
    from samia.marketplace import payments
    from tests import factories

    admin = Identity(personas["admin"].pk, "admin")
    order_a, order_c, order_d = (
        factories.OrderFactory(status="delivered", reader=personas["reader"]) for _ in range(3)
    )
    # A fails on stripe and falls back to square (attempt 2), which succeeds and is later refunded
    a = payments.payment_attempt_record(
        identity=admin, order_id=order_a.pk, provider="stripe", country="SA", amount=Decimal("25.00"), currency="USD"
    )
    payments.payment_fail(identity=admin, payment_id=a.pk, error_code="card_declined")
    b = payments.payment_fallback(identity=admin, payment_id=a.pk, provider="square")
    payments.payment_succeed(identity=admin, payment_id=b.pk)
    payments.payment_refund(identity=admin, payment_id=b.pk)
    c = payments.payment_attempt_record(
        identity=admin, order_id=order_c.pk, provider="stripe", country="SA", amount=Decimal("10.50"), currency="USD"
    )
    payments.payment_succeed(identity=admin, payment_id=c.pk)
    d = payments.payment_attempt_record(
        identity=admin, order_id=order_d.pk, provider="stripe", country="AE", amount=Decimal("9.99"), currency="AED"
    )
    payments.payment_fail(identity=admin, payment_id=d.pk)
    today = rollup_recent()["last"]

    def metrics(group_by):
        response = api_as(personas["admin"]).get(
            "/metrics/payments", {"from": today, "to": today, "group_by": group_by}
        )
        assert response.status_code == 200
        return response.json()["results"]

    by_provider = {row["provider"]: row for row in metrics("provider")}
    assert {k: by_provider["stripe"][k] for k in ("attempts", "succeeded", "failed", "fallbacks")} == {
        "attempts": 3,
        "succeeded": 1,
        "failed": 2,
        "fallbacks": 1,  # A failed on stripe and was retried on square: filed under stripe
    }
    assert by_provider["stripe"]["success_rate"] == 1 / 3
    assert by_provider["square"]["success_rate"] == 1.0
    assert (by_provider["square"]["fallbacks"], by_provider["square"]["refunded"]) == (0, 1)
    assert (by_provider["stripe"]["fallback_rate"], by_provider["square"]["fallback_rate"]) == (1 / 2, None)
    by_country = {row["country"]: row for row in metrics("country")}
    assert by_country["SA"]["success_rate"] == 2 / 3  # SA: succeeded 2 (B, C), failed 1 (A)
    assert by_country["SA"]["failed"] == 1
    assert by_country["AE"]["success_rate"] == 0.0
    [total] = metrics("")
    assert total["fallback_rate"] == 1 / 2  # one fallback for two failures
    assert b.attempt == 2 and b.fallback_of_id == a.pk
    # the refund is counted as an order refund too
    [fulfillment] = _fulfillment(personas["admin"], **{"from": today, "to": today})
    assert fulfillment["refunded"] == 1


def test_call_kpis_through_the_services(personas):
    from samia.exceptions import Conflict
    from samia.marketplace import calls
    from tests import factories

    admin = Identity(personas["admin"].pk, "admin")
    r1, r2 = personas["reader"], personas["other_reader"]
    now = dt.datetime.now(dt.UTC)
    order1 = factories.OrderFactory(status="assigned", reader=r1)
    order2 = factories.OrderFactory(status="assigned", reader=r2)
    c1, c2, c3 = (calls.call_schedule(identity=admin, order_id=order1.pk, scheduled_at=now) for _ in range(3))
    calls.call_schedule(identity=admin, order_id=order2.pk, scheduled_at=now)
    calls.call_answer(identity=admin, call_id=c1.pk)
    calls.call_end(identity=admin, call_id=c1.pk)
    calls.call_answer(identity=admin, call_id=c2.pk)
    calls.call_drop(identity=admin, call_id=c2.pk, dropped_by="client")
    calls.call_drop(identity=admin, call_id=c3.pk, dropped_by="system")
    with pytest.raises(Conflict):
        calls.call_end(identity=admin, call_id=c3.pk)
    today = rollup_recent()["last"]

    response = api_as(personas["admin"]).get("/metrics/calls", {"from": today, "to": today, "group_by": "reader"})

    rows = {row["reader"]: row for row in response.json()["results"]}
    # r1: scheduled 3, answered 2, dropped 2 (one before answering), ended 1
    assert {k: rows[r1.pk][k] for k in ("scheduled", "answered", "dropped", "ended")} == {
        "scheduled": 3,
        "answered": 2,
        "dropped": 2,
        "ended": 1,
    }
    assert (rows[r1.pk]["answer_rate"], rows[r1.pk]["drop_rate"]) == (2 / 3, 2 / 3)
    assert (rows[r2.pk]["answer_rate"], rows[r2.pk]["drop_rate"]) == (0.0, None)
    # monitors read call drops through the moderation family, readers only their own
    monitor = api_as(personas["monitor"]).get("/metrics/moderation", {"from": today, "to": today, "group_by": "reader"})
    assert {row["reader"]: row["calls_dropped"] for row in monitor.json()["results"]} == {r1.pk: 2}
    own = api_as(r2).get("/metrics/calls", {"from": today, "to": today}).json()["results"]
    assert own[0]["scheduled"] == 1


def _sessions() -> None:
    """u1, u2 on Mon 2 Nov; u1 on 3 Nov; u1, u3 and an anonymous device on Mon 9 Nov; u1 twice, u4 and a
    session with neither a user nor a device key (a session, never an actor) on 10 Nov."""
    for actor, when in [(1, "2026-11-02 08:00"), (2, "2026-11-02 09:00"), (1, "2026-11-03 08:00")]:
        event("app.session", at(when), actor=actor)
    for actor, when in [(1, "2026-11-09 08:00"), (3, "2026-11-09 09:00"), (1, "2026-11-10 08:00")]:
        event("app.session", at(when), actor=actor)
    event("app.session", at("2026-11-09 10:00"), key="device-1")
    event("app.session", at("2026-11-10 12:00"), actor=1)
    event("app.session", at("2026-11-10 13:00"), actor=4)
    event("app.session", at("2026-11-10 14:00"))


def test_engagement_counts_distinct_users_and_retention_cohorts(personas):
    _sessions()
    rollup_days(first=dt.date(2026, 10, 12), last=D2)

    response = api_as(personas["admin"]).get("/metrics/engagement", {"from": "2026-11-02", "to": D2})

    body = response.json()
    assert response.status_code == 200
    series = {row["day"]: (row["dau"], row["sessions"]) for row in body["series"]}
    assert series == {"2026-11-02": (2, 2), "2026-11-03": (1, 1), "2026-11-09": (3, 3), "2026-11-10": (2, 4)}
    # on 10 Nov: DAU {u1, u4} = 2; WAU (4..10 Nov) {u1, u3, device, u4} = 4, not 3 + 2 = 5 daily counts;
    # MAU adds u2 = 5; stickiness 2 / 5
    assert body["on_last_day"] == {"day": "2026-11-10", "dau": 2, "wau": 4, "mau": 5, "stickiness": 2 / 5}
    assert body["active_users"] == 5
    # cohort of 2 Nov {u1, u2}: u1 returns in week 1 -> 1 / 2; cohort of 9 Nov {u3, device, u4}
    assert body["retention"] == [
        {"cohort_week": "2026-11-02", "size": 2, "returned": [2, 1], "rates": [1.0, 0.5]},
        {"cohort_week": "2026-11-09", "size": 3, "returned": [3], "rates": [1.0]},
    ]


@override_settings(ANALYTICS_TIMEZONE="Europe/London")
def test_days_are_cut_in_the_business_timezone_on_a_dst_day(personas):
    # 25 Oct 2026 in London lasts 25 hours: 24 Oct 23:00 UTC (00:00 BST) to 26 Oct 00:00 UTC (00:00 GMT)
    for when, percent in [
        ("2026-10-24 22:30", 95),  # 23:30 BST on the 24th
        ("2026-10-24 23:30", 90),  # 00:30 BST on the 25th: listened through (>= 90)
        ("2026-10-25 23:30", 50),  # 23:30 GMT, still the 25th
        ("2026-10-26 00:30", 100),  # the 26th
    ]:
        event("horoscope.listened", at(when), actor=1, sign="leo", percent=percent)
    rollup_days(first=dt.date(2026, 10, 25), last=dt.date(2026, 10, 25))

    response = api_as(personas["admin"]).get("/metrics/content", {"from": "2026-10-24", "to": "2026-10-26"})

    [row] = response.json()["results"]
    assert (row["listens"], row["listened_through"], row["listen_through_rate"]) == (2, 1, 0.5)
    rollup_days(first=dt.date(2026, 10, 24), last=dt.date(2026, 10, 26))
    by_day = api_as(personas["admin"]).get(
        "/metrics/content", {"from": "2026-10-24", "to": "2026-10-26", "group_by": "day,sign"}
    )
    assert [(r["day"], r["listens"], r["listened_through"]) for r in by_day.json()["results"]] == [
        ("2026-10-24", 1, 1),
        ("2026-10-25", 2, 1),
        ("2026-10-26", 1, 1),
    ]


def test_notification_click_through_by_channel_and_campaign(personas):
    for name, count in [("sent", 4), ("delivered", 3), ("opened", 2), ("clicked", 1)]:
        for _ in range(count):
            event(f"notification.{name}", at("2026-11-09 12:00"), channel="email", campaign_id=7)
    for name, count in [("sent", 2), ("delivered", 2), ("clicked", 1)]:
        for _ in range(count):
            event(f"notification.{name}", at("2026-11-09 12:00"), channel="push")
    rollup_days(first=D1, last=D1)

    response = api_as(personas["admin"]).get(
        "/metrics/notifications", {"from": D1, "to": D1, "group_by": "channel,campaign"}
    )

    rows = {(r["channel"], r["campaign"]): r for r in response.json()["results"]}
    assert rows[("email", 7)]["click_through_rate"] == 1 / 3
    assert rows[("email", 7)]["open_rate"] == 2 / 3
    assert rows[("push", None)]["click_through_rate"] == 1 / 2
    assert rows[("push", None)]["delivery_rate"] == 1.0


def test_overview_gives_one_day_of_every_family(personas, readers):
    _orders(*readers)
    _sessions()
    rollup_days(first=dt.date(2026, 11, 1), last=D2)

    body = api_as(personas["admin"]).get("/metrics/overview", {"date": D2}).json()

    assert body["date"] == "2026-11-10"
    assert (body["fulfillment"]["created"], body["fulfillment"]["refunded"]) == (1, 1)
    assert body["fulfillment"]["ttf_response_p50_seconds"] == 300
    assert body["engagement"]["dau"] == 2
    assert body["payments"]["success_rate"] is None
