"""Measure and delete the demo world (the demo users and every row that hangs off them).

The audit trail is append-only: the entries written while the demo was seeded and used stay, and
name ids that no longer exist after a reset.
"""

from __future__ import annotations

from django.contrib.admin.models import LogEntry
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction
from django.db.models import Count

from samia.accounts.models import Role, User
from samia.marketplace.demo.world import DEMO_DOMAIN, population
from samia.marketplace.models import Call, Horoscope, MediaAsset, Order, OrderIdempotencyKey, Payment

ABSENT, PRESENT, OTHER = "absent", "present", "other"


def demo_world_size() -> tuple[int, int]:
    """Return how many demo users and demo orders exist."""
    users = User.objects.filter(email__endswith=f"@{DEMO_DOMAIN}").count()
    orders = Order.objects.filter(client__email__endswith=f"@{DEMO_DOMAIN}").count()
    return users, orders


def demo_world_state(scale: int) -> str:
    """Return whether the world of this scale is absent, present (used or not), or another one stands there.

    A world in use has more orders (and maybe more staff) than it was seeded with; its clients, who
    grow with the scale, tell one scale from another. The world is built in one transaction, so it
    is never half there.
    """
    roles = dict(
        User.objects.filter(email__endswith=f"@{DEMO_DOMAIN}").values_list("role").annotate(n=Count("id")).order_by()
    )
    if not roles:
        return ABSENT
    expected = population(scale)
    seeded = all(roles.get(role, 0) >= count for role, count in expected.items())
    return PRESENT if seeded and roles[Role.CLIENT] == expected[Role.CLIENT] else OTHER


def demo_world_delete() -> tuple[int, int]:
    """Delete the demo users and everything that hangs off them, in SQL: 200k orders are too many to collect."""
    size = demo_world_size()
    tables = {
        "user": User._meta.db_table,
        "order": Order._meta.db_table,
        "payment": Payment._meta.db_table,
        "call": Call._meta.db_table,
        "media": MediaAsset._meta.db_table,
        "horoscope": Horoscope._meta.db_table,
        "log": LogEntry._meta.db_table,
        "idempotency": OrderIdempotencyKey._meta.db_table,
    }
    users = "SELECT id FROM {user} WHERE email LIKE %(pattern)s"
    orders = f"SELECT id FROM {{order}} WHERE client_id IN ({users})"
    media = f"SELECT id FROM {{media}} WHERE owner_id IN ({users}) OR order_id IN ({orders})"
    statements = [
        # The analytics events derived from the demo rows go with them.
        f"DELETE FROM events_raw WHERE subject_type = 'marketplace.payment' "
        f"AND subject_id IN (SELECT id FROM {{payment}} WHERE order_id IN ({orders}))",
        f"DELETE FROM events_raw WHERE subject_type = 'marketplace.call' "
        f"AND subject_id IN (SELECT id FROM {{call}} WHERE order_id IN ({orders}))",
        f"DELETE FROM events_raw WHERE subject_type = 'marketplace.order' AND subject_id IN ({orders})",
        # The demo users' sessions and listens, and the anonymous listens of the demo horoscopes.
        # Every event a demo user caused: the seeded sessions and listens, and whatever using the demo emitted.
        f"DELETE FROM events_raw WHERE actor_id IN ({users})",
        "DELETE FROM events_raw WHERE subject_type = 'marketplace.horoscope' "
        f"AND subject_id IN (SELECT id FROM {{horoscope}} WHERE approved_by_id IN ({users}))",
        f"UPDATE {{horoscope}} SET audio_id = NULL WHERE audio_id IN ({media})",
        f"DELETE FROM {{horoscope}} WHERE approved_by_id IN ({users})",
        f"DELETE FROM {{media}} WHERE id IN ({media})",
        f"DELETE FROM {{payment}} WHERE order_id IN ({orders})",
        f"DELETE FROM {{call}} WHERE order_id IN ({orders}) OR client_id IN ({users}) OR reader_id IN ({users})",
        f"DELETE FROM {{idempotency}} WHERE client_id IN ({users})",
        f"DELETE FROM {{order}} WHERE id IN ({orders})",
        f"DELETE FROM {{log}} WHERE user_id IN ({users})",
        "DELETE FROM {user} WHERE email LIKE %(pattern)s",
    ]
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement.format(**tables), {"pattern": f"%@{DEMO_DOMAIN}"})
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # fail here, not at some later commit
            # Back to deferred, the initial mode of every deferrable constraint and trigger here (the
            # foreign keys, the audit chain, the block check), for the rest of the transaction: the rebuild.
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    except IntegrityError as error:
        raise CommandError(f"Rows outside the demo world still refer to it; nothing was deleted. ({error})") from None
    return size
