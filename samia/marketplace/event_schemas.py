"""Events the marketplace emits (validated by samia.events)."""

from decimal import Decimal

from samia.events.registry import Code, register

# Order lifecycle: one event per transition, named after the state reached.
ORDER_EVENTS = {
    "create": "order.created",
    "assign": "order.assigned",
    "start": "order.started",
    "submit": "order.submitted",
    "approve": "order.approved",
    "reject": "order.rejected",
    "deliver": "order.delivered",
    "cancel": "order.cancelled",
}
for event in ORDER_EVENTS.values():
    register(
        event,
        1,
        required=("service", "gold", "to_status"),
        service=Code,
        gold=bool,
        from_status=Code,
        to_status=Code,
        reader_id=int,
    )

register("horoscope.listened", 1, required=("sign", "percent"), sign=Code, percent=int, horoscope_id=int)
register("app.session", 1, platform=Code, country=Code, language=Code)
# v2, emitted by POST /horoscopes/{id}/listen and POST /me/sessions: the seconds listened, the app's version.
register("horoscope.listened", 2, required=("sign", "percent"), sign=Code, percent=int, horoscope_id=int, seconds=int)
register("app.session", 2, platform=Code, country=Code, language=Code, app_version=Code)

# A refund reverses a delivered (or paid) order; it is not a state of the order machine.
register("order.refunded", 1, required=("service", "gold"), service=Code, gold=bool, reader_id=int, payment_id=int)

# Payments: one event per attempt outcome; a fallback is attempt n+1 on another provider after a failure.
for event in ("payment.attempted", "payment.succeeded", "payment.failed", "payment.fallback", "payment.refunded"):
    register(
        event,
        1,
        required=("provider", "country", "amount", "currency", "attempt"),
        provider=Code,
        country=Code,
        amount=Decimal,
        currency=Code,
        attempt=int,
        order_id=int,
        fallback_of=int,
        error_code=Code,
    )

# Calls: reader_id lets a reader see their own answer and drop rates.
for event in ("call.scheduled", "call.answered", "call.dropped", "call.ended"):
    register(event, 1, required=("reader_id",), reader_id=int, order_id=int, dropped_by=Code, duration_seconds=int)

# Notifications (M22 emits these; registered here so the rollups count them when they arrive).
for event in ("notification.sent", "notification.delivered", "notification.opened", "notification.clicked"):
    register(event, 1, required=("channel",), channel=Code, campaign_id=int)
