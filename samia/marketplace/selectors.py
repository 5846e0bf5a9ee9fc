"""Reads, scoped by the same declarations that Postgres enforces."""

from django.db.models import QuerySet

from samia.marketplace import policies, publishing
from samia.marketplace.models import Call, Horoscope, Order, Payment
from samia.rls.registry import Identity


def order_list(*, identity: Identity, status: str | None = None) -> QuerySet[Order]:
    """Return the orders `identity` may see, newest first."""
    orders = policies.ORDERS.scope(Order.objects.all(), identity)
    if status:
        orders = orders.filter(status=status)
    return orders.order_by("-id")


def order_get(*, identity: Identity, order_id: int, operation: str = "select") -> Order:
    """Return one order `identity` may act on, or raise Order.DoesNotExist("No such order.")."""
    orders = Order.objects.select_related("service")
    return policies.ORDERS.get(orders, identity, order_id, operation=operation, missing="No such order.")


def call_list(*, identity: Identity, status: str | None = None) -> QuerySet[Call]:
    """Return the calls `identity` may see, newest first."""
    calls = policies.CALLS.scope(Call.objects.all(), identity)
    if status:
        calls = calls.filter(status=status)
    return calls.order_by("-id")


def call_get(*, identity: Identity, call_id: int, operation: str = "select", lock: bool = False) -> Call:
    """Return one call `identity` may act on (locked FOR UPDATE when `lock`), or raise Call.DoesNotExist."""
    calls = Call.objects.select_for_update() if lock else Call.objects.all()
    return policies.CALLS.get(calls, identity, call_id, operation=operation, missing="No such call.")


def payment_list(*, identity: Identity, status: str | None = None) -> QuerySet[Payment]:
    """Return the payments `identity` may see, newest first."""
    payments = policies.PAYMENTS.scope(Payment.objects.all(), identity)
    if status:
        payments = payments.filter(status=status)
    return payments.order_by("-id")


def payment_get(*, identity: Identity, payment_id: int, operation: str = "select", lock: bool = False) -> Payment:
    """Return one payment `identity` may act on (locked FOR UPDATE when `lock`), or raise Payment.DoesNotExist."""
    payments = Payment.objects.select_for_update() if lock else Payment.objects.all()
    return policies.PAYMENTS.get(payments, identity, payment_id, operation=operation, missing="No such payment.")


def horoscope_daily_list(*, identity: Identity, date, sign: str | None = None) -> list[Horoscope]:
    """Return the daily horoscopes of `date` that `identity` may read, unapproved auto translations replaced by the source."""
    horoscopes = policies.HOROSCOPES.scope(Horoscope.objects.all(), identity).filter(
        date=date, scope=Horoscope.Scope.DAILY
    )
    if sign:
        horoscopes = horoscopes.filter(sign=sign)
    return publishing.horoscopes_served(horoscopes.order_by("sign"))


def horoscope_get(*, identity: Identity, horoscope_id: int) -> Horoscope:
    """Return one horoscope `identity` may read, or raise Horoscope.DoesNotExist("No such horoscope.")."""
    return policies.HOROSCOPES.get(Horoscope.objects.all(), identity, horoscope_id, missing="No such horoscope.")
