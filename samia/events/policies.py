"""Raw events: any request appends its own; admins read them (analytics reads aggregates)."""

from samia.rls.conditions import IsNull, Mine
from samia.rls.registry import ADMINS, PUBLIC, ROLES, allow, declare

EVENTS = declare(
    "events.EventRaw",
    allow("insert", ROLES, check=Mine("actor_id")),
    allow("insert", PUBLIC, check=IsNull("actor_id")),
    allow("select", ADMINS),
    module=__name__,
)
