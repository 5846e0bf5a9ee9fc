import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from samia.accounts.models import Role, User
from samia.accounts.validators import validate_country, validate_e164, validate_timezone
from samia.accounts.zodiac import Sign, sign_for
from samia.marketplace.management.commands.seed_demo import DEMO_DOMAIN, DEMO_PASSWORD
from samia.marketplace.models import Call, Horoscope, Order, Payment, Service
from samia.marketplace.states import HELD, OrderStatus
from tests.conftest import api_as

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 3, 10)
STAMPS = ["assigned_at", "started_at", "submitted_at", "decided_at", "delivered_at", "cancelled_at"]
ORDER_FINGERPRINT = ["client__email", "reader__email", "service__code", "status", "is_gold", "question", *STAMPS]


def _seed(**options) -> str:
    out = io.StringIO()
    call_command("seed_demo", scale=1, seed=7, today=TODAY, stdout=out, stderr=io.StringIO(), **options)
    return out.getvalue()


def _counts() -> dict:
    models = [User, Service, Order, Payment, Call, Horoscope]
    return {model.__name__: model.objects.count() for model in models} | {"events": len(_events())}


def _events() -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, subject_type, subject_id, occurred_at FROM events_raw ORDER BY 1, 2, 3, 4")
        return cursor.fetchall()


def _fingerprint() -> tuple[list, list]:
    orders = Order.objects.values_list(*ORDER_FINGERPRINT).order_by(*ORDER_FINGERPRINT)
    payment_fields = ["order__client__email", "order__created_at", "attempt", "provider", "status", "amount"]
    payments = Payment.objects.values_list(*payment_fields).order_by(*payment_fields)
    return list(orders), list(payments)


def test_it_seeds_users_of_every_role_in_many_places():
    _seed()

    users = list(User.objects.all())
    assert {u.role for u in users} == set(Role.values)
    assert all(u.email.endswith(f"@{DEMO_DOMAIN}") for u in users)
    assert 50 <= len(users) <= 70
    assert len({u.country for u in users}) >= 5
    assert len({u.timezone for u in users}) >= 5
    assert {u.language for u in users} == {"ar", "en"}
    for user in users:
        validate_country(user.country)
        validate_timezone(user.timezone)
        validate_e164(user.phone)
        assert user.zodiac_sign == (sign_for(user.date_of_birth) if user.date_of_birth else "")
    assert sum(bool(u.phone) for u in users) > len(users) // 3
    assert sum(bool(u.zodiac_sign) for u in users) > len(users) // 2


def test_it_seeds_the_five_services_with_prices():
    _seed()

    prices = dict(Service.objects.values_list("code", "base_price"))
    assert set(prices) == set(Service.Code.values)
    assert all(isinstance(price, Decimal) and price > 0 for price in prices.values())


def test_it_seeds_orders_in_every_state_with_the_stamps_of_that_state():
    _seed()

    orders = list(Order.objects.select_related("service"))
    assert len(orders) == 500
    assert {o.status for o in orders} == set(OrderStatus.values) - set(HELD)
    assert 0 < sum(o.is_gold for o in orders) < len(orders) // 4
    patterns = {(o.status, o.reader_id is not None, tuple(s for s in STAMPS if getattr(o, s))) for o in orders}
    assert patterns == {
        ("new", False, ()),
        ("assigned", True, ("assigned_at",)),
        ("in_progress", True, ("assigned_at", "started_at")),
        ("awaiting_approval", True, ("assigned_at", "started_at", "submitted_at")),
        ("approved", True, ("assigned_at", "started_at", "submitted_at", "decided_at")),
        ("rejected", True, ("assigned_at", "started_at", "submitted_at", "decided_at")),
        ("delivered", True, ("assigned_at", "started_at", "submitted_at", "decided_at", "delivered_at")),
        ("cancelled", False, ("cancelled_at",)),
        ("cancelled", True, ("assigned_at", "cancelled_at")),
    }
    anchor = dt.datetime.combine(TODAY, dt.time(), tzinfo=dt.UTC)
    for order in orders:
        moments = [order.client.created_at, order.created_at, *(getattr(order, s) for s in STAMPS)]
        moments = [m for m in moments if m is not None]
        assert moments == sorted(moments), order.pk
        assert moments[-1] <= anchor
        assert bool(order.rejection_reason) == (order.status == "rejected")


def test_it_seeds_calls_for_direct_call_orders_only():
    _seed()

    calls = list(Call.objects.select_related("order__service"))
    assert {c.order.service.code for c in calls} == {"direct_call"}
    assert {"scheduled", "ringing", "answered", "ended", "dropped", "failed"} <= {c.status for c in calls}
    for call in calls:
        assert (call.client_id, call.reader_id) == (call.order.client_id, call.order.reader_id)
        assert bool(call.dropped_by) == (call.status == "dropped")
        assert (call.ended_at is not None) == (call.status in {"ended", "dropped", "failed"})
        if call.order.submitted_at and call.ended_at:
            assert call.order.started_at <= call.scheduled_at < call.ended_at < call.order.submitted_at


def test_it_seeds_payments_with_fallbacks_and_refunds():
    _seed()

    payments = list(Payment.objects.select_related("order__service", "fallback_of"))
    assert {p.status for p in payments} == {"pending", "succeeded", "failed", "refunded"}
    fallbacks = [p for p in payments if p.fallback_of is not None]
    assert fallbacks
    for payment in fallbacks:
        failed = payment.fallback_of
        assert (failed.order_id, failed.status, failed.attempt, failed.provider) == (
            payment.order_id,
            "failed",
            1,
            "stripe",
        )
        assert (payment.attempt, payment.provider) == (2, "square")
    for payment in payments:
        surcharge = Decimal("1.5") if payment.order.is_gold else 1
        assert payment.amount == (payment.order.service.base_price * surcharge).quantize(Decimal("0.01"))


def test_it_seeds_horoscopes_for_every_sign_around_today():
    _seed()

    today = Horoscope.objects.filter(date=TODAY)
    assert sorted(today.values_list("sign", flat=True)) == sorted(Sign.values)
    assert today.filter(approval_status="approved").exists()
    assert Horoscope.objects.count() == 12 * 9
    assert Horoscope.objects.filter(approval_status="pending").exists()
    dates = set(Horoscope.objects.values_list("date", flat=True))
    assert dates == {TODAY + dt.timedelta(days=d) for d in range(-7, 2)}
    for horoscope in Horoscope.objects.all():
        assert horoscope.text_en and horoscope.text_ar
        assert (horoscope.approved_by is not None) == (horoscope.approval_status == "approved")


def _refunds() -> list[tuple]:
    payments = Payment.objects.filter(status="refunded").select_related("order")
    return sorted((p.order.client.email, p.order.created_at, p.attempt, p.updated_at) for p in payments)


def test_it_stamps_refunds_after_the_payment_and_the_delivery_or_cancellation():
    _seed()
    anchor = dt.datetime.combine(TODAY, dt.time(), tzinfo=dt.UTC)

    refunds = list(Payment.objects.filter(status="refunded").select_related("order"))
    assert {p.order.status for p in refunds} == {"cancelled", "delivered"}
    for payment in refunds:
        order = payment.order
        assert payment.created_at < payment.updated_at <= anchor, payment.pk
        assert (order.cancelled_at or order.delivered_at) < payment.updated_at, payment.pk
    assert len({p.updated_at.date() for p in refunds}) > 30  # spread over the year, not one seeding instant
    refunded = {(subject, at) for name, _, subject, at in _events() if name == "payment.refunded"}
    assert refunded == {(p.pk, p.updated_at) for p in refunds}
    stamps = _refunds()
    _seed(reset=True)
    assert _refunds() == stamps  # the same seed, the same refund instants


def test_it_is_idempotent():
    _seed()
    before = _counts()
    fingerprint = _fingerprint()

    output = _seed()

    assert "already seeded" in output
    assert _counts() == before
    assert _fingerprint() == fingerprint


def test_it_rebuilds_the_same_world_from_the_same_seed():
    _seed()
    counts, fingerprint = _counts(), _fingerprint()

    output = _seed(reset=True)

    assert "Removed the demo world: 60 users, 500 orders." in output
    assert (_counts(), _fingerprint()) == (counts, fingerprint)


def test_it_builds_another_world_from_another_seed():
    _seed()
    fingerprint = _fingerprint()

    call_command("seed_demo", scale=1, seed=8, today=TODAY, reset=True, stdout=io.StringIO(), stderr=io.StringIO())

    assert Order.objects.count() == 500
    assert _fingerprint() != fingerprint


def test_it_refuses_to_mix_scales_without_reset():
    _seed()
    before = _counts()

    with pytest.raises(CommandError, match="another scale"):
        call_command("seed_demo", scale=2, stdout=io.StringIO(), stderr=io.StringIO())

    assert _counts() == before


def test_it_keeps_horoscopes_it_did_not_write():
    written_elsewhere = Horoscope.objects.create(
        sign="leo", date=TODAY, text_en="Kept.", text_ar="باق.", approval_status="pending"
    )

    _seed()

    assert Horoscope.objects.get(sign="leo", date=TODAY) == written_elsewhere
    assert Horoscope.objects.get(pk=written_elsewhere.pk).text_en == "Kept."
    assert Horoscope.objects.filter(date=TODAY).count() == 12


def test_the_demo_admin_logs_in_with_the_demo_password():
    output = _seed()

    response = api_as().post("/auth/token", {"email": f"admin@{DEMO_DOMAIN}", "password": DEMO_PASSWORD}, format="json")

    assert response.status_code == 200
    assert f"admin@{DEMO_DOMAIN}" in output
    assert DEMO_PASSWORD in output
    me = api_as().get("/me", HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}")
    assert me.json()["role"] == "admin"


def test_it_anchors_on_today_by_default():
    call_command("seed_demo", scale=1, seed=7, stdout=io.StringIO(), stderr=io.StringIO())

    today = timezone.now().date()
    assert Horoscope.objects.filter(date=today, approval_status="approved").exists()
    assert Order.objects.filter(created_at__date__gte=today - dt.timedelta(days=3), status="new").exists()


def test_it_refuses_to_reset_while_other_rows_point_into_the_demo_world(make_user):
    _seed()
    outsider = make_user(email="outsider@example.test")
    reader = User.objects.get(email=f"reader1@{DEMO_DOMAIN}")
    Order.objects.create(client=outsider, reader=reader, service=Service.objects.first(), status="assigned")
    before = _counts()

    with pytest.raises(CommandError, match="Rows outside the demo world still refer to it"):
        _seed(reset=True)

    assert _counts() == before


def test_it_derives_the_events_the_services_would_have_emitted():
    _seed()
    events = _events()

    def count(name):
        return sum(1 for event in events if event[0] == name)

    assert count("order.created") == Order.objects.count()
    assert count("order.delivered") == Order.objects.filter(delivered_at__isnull=False).count()
    assert count("order.cancelled") == Order.objects.filter(status="cancelled").count()
    assert count("order.rejected") == Order.objects.filter(status="rejected").count()
    assert count("payment.attempted") == Payment.objects.count()
    assert count("payment.fallback") == Payment.objects.filter(fallback_of__isnull=False).count() > 0
    assert count("payment.refunded") == count("order.refunded") == Payment.objects.filter(status="refunded").count()
    assert count("call.scheduled") == Call.objects.count()
    delivered = Order.objects.filter(delivered_at__isnull=False).order_by("id").first()
    assert ("order.delivered", "marketplace.order", delivered.pk, delivered.delivered_at) in events


def test_it_leaves_a_world_in_use_as_it_is():
    _seed()
    client = User.objects.get(email=f"client1@{DEMO_DOMAIN}")
    response = api_as(client).post("/orders", {"service": "tarot", "question": "And next week?"}, format="json")
    assert response.status_code == 201
    before = _counts()

    output = _seed()

    assert "already seeded (60 users, 501 orders)" in output
    assert _counts() == before


def test_a_reset_removes_the_moderation_rows_about_the_demo_world_first():
    _seed()
    monitor = User.objects.get(email=f"monitor@{DEMO_DOMAIN}")
    response = api_as(monitor).post(
        "/monitor/moderate/order/" + str(Order.objects.filter(status="assigned").order_by("id").first().pk),
        {"action": "hold", "reason": "fraud"},
        format="json",
    )
    assert response.status_code == 201
    counts, fingerprint = _counts(), _fingerprint()

    output = _seed(reset=True)

    assert "Removed the demo world: 60 users, 500 orders." in output
    assert (_counts(), _fingerprint()) != (counts, fingerprint)  # the held order is assigned again
    _seed(reset=True)
    assert _counts()["Order"] == 500
