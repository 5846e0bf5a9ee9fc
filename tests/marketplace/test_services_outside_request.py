"""Marketplace and audit services run from a worker, the back office or a command: their refusals are Django
and domain errors, never DRF's HTTP exceptions, and they leave nothing behind."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from rest_framework.exceptions import APIException

from samia.audit import services as audit_services
from samia.audit.models import AuditCheckpoint, AuditEntry
from samia.exceptions import Conflict, Unavailable
from samia.marketplace import calls, payments, services
from samia.marketplace.models import Call, Order, Payment
from samia.rls.binding import bound
from samia.rls.registry import Identity

pytestmark = pytest.mark.django_db

MISSING = 999999


def _me(world, persona: str) -> Identity:
    return Identity(world["personas"][persona].pk, persona)


def _state() -> tuple:
    return (
        list(Order.objects.order_by("pk").values_list("pk", "status", "reader_id")),
        list(Payment.objects.order_by("pk").values_list("pk", "status")),
        list(Call.objects.order_by("pk").values_list("pk", "status")),
        AuditEntry.objects.count(),
    )


def _attempt(me, order_id):
    return payments.payment_attempt_record(
        identity=me, order_id=order_id, provider="stripe", country="SA", amount=Decimal("5"), currency="USD"
    )


# name: (actor, call(identity, world), the error, its message)
REFUSALS = {
    "unknown order": (
        "admin",
        lambda me, w: services.order_transition(identity=me, order_id=MISSING, action="start"),
        Order.DoesNotExist,
        "No such order.",
    ),
    "someone else's order": (
        "client",
        lambda me, w: services.order_transition(identity=me, order_id=w["orders"]["other_new"].pk, action="cancel"),
        Order.DoesNotExist,
        "No such order.",
    ),
    "unknown payment": (
        "admin",
        lambda me, w: payments.payment_succeed(identity=me, payment_id=MISSING),
        Payment.DoesNotExist,
        "No such payment.",
    ),
    "a payment a reader may not change": (
        "reader",
        lambda me, w: payments.payment_succeed(identity=me, payment_id=w["payments"][0].pk),
        Payment.DoesNotExist,
        "No such payment.",
    ),
    "a payment for an unknown order": (
        "admin",
        lambda me, w: _attempt(me, MISSING),
        Order.DoesNotExist,
        "No such order.",
    ),
    "unknown call": (
        "admin",
        lambda me, w: calls.call_answer(identity=me, call_id=MISSING),
        Call.DoesNotExist,
        "No such call.",
    ),
    "a call for an unknown order": (
        "admin",
        lambda me, w: calls.call_schedule(identity=me, order_id=MISSING, scheduled_at=w["calls"][0].scheduled_at),
        Order.DoesNotExist,
        "No such order.",
    ),
}


@pytest.mark.parametrize("name", sorted(REFUSALS))
def test_a_refusal_outside_a_request_is_a_django_error(world, name):
    actor, call, expected, message = REFUSALS[name]
    me = _me(world, actor)
    before = _state()

    # when the service runs as a worker runs it: no request, the identity bound to the connection
    with pytest.raises(expected) as raised, bound(me):
        call(me, world)

    # then the error is Django's, in words, and nothing changed
    assert not isinstance(raised.value, APIException)
    assert str(raised.value) == message
    assert _state() == before


def test_a_conflict_outside_a_request_carries_its_details(world):
    me = _me(world, "admin")
    before = _state()

    with pytest.raises(Conflict) as raised, bound(me):
        services.order_transition(identity=me, order_id=world["orders"]["approved"].pk, action="start")

    assert not isinstance(raised.value, APIException)
    assert (raised.value.code, raised.value.status, raised.value.message) == (
        "conflict",
        409,
        "Cannot start an order that is approved.",
    )
    assert raised.value.details == {"status": "approved", "allowed_from": ["assigned"]}
    assert _state() == before


@pytest.mark.parametrize(
    ("call", "details"),
    [
        (
            lambda me, w: services.order_create(identity=me, service_code="nope", question="Will it rain?"),
            {"service": ["Unknown or inactive service."]},
        ),
        (
            lambda me, w: services.order_transition(
                identity=me, order_id=w["orders"]["new"].pk, action="assign", reader_id=MISSING
            ),
            {"reader_id": ["Choose an active reader."]},
        ),
        (
            lambda me, w: calls.call_drop(identity=me, call_id=w["calls"][0].pk, dropped_by="nobody"),
            {"dropped_by": ["One of client, reader, system."]},
        ),
    ],
    ids=["unknown service", "inactive reader", "unknown party"],
)
def test_a_validation_error_outside_a_request_names_its_field(world, call, details):
    me = _me(world, "admin")
    before = _state()

    with pytest.raises(ValidationError) as raised, bound(me):
        call(me, world)

    assert raised.value.message_dict == details
    assert _state() == before


@override_settings(AUDIT_SIGNING_KEY="")
def test_signing_without_a_key_is_unavailable(personas):
    with pytest.raises(Unavailable) as raised:
        audit_services.checkpoint_sign(actor="system:test")

    assert not isinstance(raised.value, APIException)
    assert (raised.value.code, raised.value.status, raised.value.message) == (
        "signing_unavailable",
        503,
        "No audit signing key is configured.",
    )
    assert not AuditCheckpoint.objects.exists()
