"""Reads, scoped by the same declarations that Postgres enforces."""

from django.db.models import QuerySet

from samia.marketplace import policies
from samia.marketplace.models import Call, Horoscope, Order, Payment
from samia.rls.registry import Identity


def order_list(*, identity: Identity, status: str | None = None) -> QuerySet[Order]:
    """Return the orders `identity` may see, newest first."""
    orders = policies.ORDERS.scope(Order.objects.all(), identity)
    if status:
        orders = orders.filter(status=status)
    return orders.order_by("-id")


def order_get(*, identity: Identity, order_id: int, operation: str = "select") -> Order:
    """Return one order `identity` may act on, or raise Order.DoesNotExist."""
    return policies.ORDERS.scope(Order.objects.all(), identity, operation).get(pk=order_id)


def call_list(*, identity: Identity, status: str | None = None) -> QuerySet[Call]:
    """Return the calls `identity` may see, newest first."""
    calls = policies.CALLS.scope(Call.objects.all(), identity)
    if status:
        calls = calls.filter(status=status)
    return calls.order_by("-id")


def payment_list(*, identity: Identity, status: str | None = None) -> QuerySet[Payment]:
    """Return the payments `identity` may see, newest first."""
    payments = policies.PAYMENTS.scope(Payment.objects.all(), identity)
    if status:
        payments = payments.filter(status=status)
    return payments.order_by("-id")


def horoscope_daily_list(*, identity: Identity, date, sign: str | None = None) -> QuerySet[Horoscope]:
    """Return the daily horoscopes of `date` that `identity` may read."""
    horoscopes = policies.HOROSCOPES.scope(Horoscope.objects.all(), identity).filter(
        date=date, scope=Horoscope.Scope.DAILY
    )
    if sign:
        horoscopes = horoscopes.filter(sign=sign)
    return horoscopes.order_by("sign")
