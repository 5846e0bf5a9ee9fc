"""Payment attempts, fallbacks and refunds: validate, write, audit, emit, in one transaction.

The back office and the payment adapters call these; each change writes one audit entry and one
event that the analytics rollups count (payment success and fallback rates by provider and country).
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction

from samia import audit
from samia.events.services import emit
from samia.exceptions import Conflict
from samia.marketplace import selectors
from samia.marketplace.models import Payment
from samia.rls.registry import Identity

S = Payment.Status


def _properties(payment: Payment, **extra) -> dict:
    return {
        "provider": payment.provider,
        "country": payment.country,
        "amount": payment.amount,
        "currency": payment.currency,
        "attempt": payment.attempt,
        "order_id": payment.order_id,
        **extra,
    }


def _locked(identity: Identity, payment_id: int) -> Payment:
    return selectors.payment_get(identity=identity, payment_id=payment_id, operation="update", lock=True)


def _moved(payment: Payment, *, identity: Identity, sources: tuple[str, ...], target: str, action: str) -> Payment:
    if payment.status not in sources:
        raise Conflict(
            f"Cannot {action} a payment that is {payment.status}.", status=payment.status, allowed_from=list(sources)
        )
    previous = payment.status
    payment.status = target
    payment.save(update_fields=["status", "updated_at"])
    audit.record(
        action=f"payment.{action}",
        actor=identity,
        target=payment,
        details={"from": previous, "to": target, "provider": payment.provider, "attempt": payment.attempt},
    )
    return payment


@transaction.atomic
def payment_attempt_record(
    *,
    identity: Identity,
    order_id: int,
    provider: str,
    country: str,
    amount: Decimal,
    currency: str,
    provider_reference: str = "",
) -> Payment:
    """Record the first payment attempt of an order (pending until the provider answers)."""
    order = selectors.order_get(identity=identity, order_id=order_id)
    if Payment.objects.filter(order_id=order_id).exists():
        raise Conflict("This order already has a payment attempt; use a fallback.", order_id=order_id)
    payment = Payment.objects.create(
        order=order,
        provider=provider,
        country=country,
        amount=amount,
        currency=currency,
        attempt=1,
        provider_reference=provider_reference,
    )
    audit.record(action="payment.attempt", actor=identity, target=payment, details={"provider": provider, "attempt": 1})
    emit("payment.attempted", 1, actor=identity, subject=payment, properties=_properties(payment))
    return payment


@transaction.atomic
def payment_succeed(*, identity: Identity, payment_id: int) -> Payment:
    """Mark a pending attempt as paid."""
    payment = _moved(
        _locked(identity, payment_id), identity=identity, sources=(S.PENDING,), target=S.SUCCEEDED, action="succeed"
    )
    emit("payment.succeeded", 1, actor=identity, subject=payment, properties=_properties(payment))
    return payment


@transaction.atomic
def payment_fail(*, identity: Identity, payment_id: int, error_code: str = "") -> Payment:
    """Mark a pending attempt as failed (`error_code` is the provider taxonomy's code)."""
    payment = _moved(
        _locked(identity, payment_id), identity=identity, sources=(S.PENDING,), target=S.FAILED, action="fail"
    )
    extra = {"error_code": error_code} if error_code else {}
    emit("payment.failed", 1, actor=identity, subject=payment, properties=_properties(payment, **extra))
    return payment


@transaction.atomic
def payment_fallback(*, identity: Identity, payment_id: int, provider: str, provider_reference: str = "") -> Payment:
    """Retry a failed attempt on another provider: attempt n+1, pending, with fallback_of set."""
    failed = _locked(identity, payment_id)
    if failed.status != S.FAILED:
        raise Conflict("Only a failed payment falls back.", status=failed.status, allowed_from=[S.FAILED])
    if Payment.objects.filter(fallback_of=failed).exists():
        raise Conflict("This payment already fell back.", status=failed.status)
    if provider == failed.provider:
        raise Conflict("A fallback uses another provider.", provider=provider)
    payment = Payment.objects.create(
        order_id=failed.order_id,
        provider=provider,
        country=failed.country,
        amount=failed.amount,
        currency=failed.currency,
        attempt=failed.attempt + 1,
        fallback_of=failed,
        provider_reference=provider_reference,
    )
    audit.record(
        action="payment.fallback",
        actor=identity,
        target=payment,
        details={"fallback_of": failed.pk, "from_provider": failed.provider, "provider": provider},
    )
    properties = _properties(payment, fallback_of=failed.pk)
    emit("payment.fallback", 1, actor=identity, subject=payment, properties=properties)
    emit("payment.attempted", 1, actor=identity, subject=payment, properties=properties)
    return payment


@transaction.atomic
def payment_refund(*, identity: Identity, payment_id: int) -> Payment:
    """Refund a paid attempt; the order is then counted as refunded (order.refunded)."""
    payment = _moved(
        _locked(identity, payment_id), identity=identity, sources=(S.SUCCEEDED,), target=S.REFUNDED, action="refund"
    )
    order = selectors.order_get(identity=identity, order_id=payment.order_id)
    emit("payment.refunded", 1, actor=identity, subject=payment, properties=_properties(payment))
    order_properties = {"service": order.service.code, "gold": order.is_gold, "payment_id": payment.pk}
    if order.reader_id:
        order_properties["reader_id"] = order.reader_id
    emit("order.refunded", 1, actor=identity, subject=order, properties=order_properties)
    return payment
