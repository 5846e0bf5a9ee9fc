"""Events the marketplace emits (validated by samia.events)."""

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
