"""The analytics events the domain services would have emitted for the demo rows, derived in SQL.

The demo world is bulk-created, not played through the services; this gives analytics (M23) the
same history. Set-based SQL, one statement per kind of event, from the demo rows' own timestamps.
"""

from __future__ import annotations

from django.db import connection, transaction
from django.utils import timezone

from samia.marketplace.demo.world import DEMO_DOMAIN

EVENTS_INSERT = (
    "INSERT INTO events_raw (occurred_at, name, version, actor_id, actor_key, subject_type, subject_id, properties) "
)


@transaction.atomic
def events_derive() -> int:
    """Write the events the domain services would have emitted for the demo rows; return how many."""
    demo = f"u.email LIKE '%%@{DEMO_DOMAIN}'"
    order_props = (
        "jsonb_build_object('service', s.code, 'gold', o.is_gold, 'from_status', {source}, "
        "'to_status', {target}, 'reader_id', {reader})"
    )
    orders = (
        "FROM marketplace_order o JOIN marketplace_service s ON s.id = o.service_id "
        f"JOIN accounts_user u ON u.id = o.client_id WHERE {demo}"
    )
    statements = [
        (
            "o.created_at",
            "order.created",
            "o.client_id",
            order_props.format(source="NULL", target="'new'", reader="NULL"),
            "",
        ),
        (
            "o.assigned_at",
            "order.assigned",
            "NULL",
            order_props.format(source="'new'", target="'assigned'", reader="o.reader_id"),
            "o.assigned_at IS NOT NULL",
        ),
        (
            "o.started_at",
            "order.started",
            "o.reader_id",
            order_props.format(source="'assigned'", target="'in_progress'", reader="o.reader_id"),
            "o.started_at IS NOT NULL",
        ),
        (
            "o.submitted_at",
            "order.submitted",
            "o.reader_id",
            order_props.format(source="'in_progress'", target="'awaiting_approval'", reader="o.reader_id"),
            "o.submitted_at IS NOT NULL",
        ),
        (
            "o.decided_at",
            "order.approved",
            "NULL",
            order_props.format(source="'awaiting_approval'", target="'approved'", reader="o.reader_id"),
            "o.decided_at IS NOT NULL AND o.status IN ('approved', 'delivered')",
        ),
        (
            "o.decided_at",
            "order.rejected",
            "NULL",
            order_props.format(source="'awaiting_approval'", target="'rejected'", reader="o.reader_id"),
            "o.decided_at IS NOT NULL AND o.status = 'rejected'",
        ),
        (
            "o.delivered_at",
            "order.delivered",
            "NULL",
            order_props.format(source="'approved'", target="'delivered'", reader="o.reader_id"),
            "o.delivered_at IS NOT NULL",
        ),
        (
            "o.cancelled_at",
            "order.cancelled",
            "o.client_id",
            order_props.format(
                source="CASE WHEN o.reader_id IS NULL THEN 'new' ELSE 'assigned' END",
                target="'cancelled'",
                reader="o.reader_id",
            ),
            "o.cancelled_at IS NOT NULL",
        ),
    ]
    total = 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT min(created_at) FROM marketplace_order")
        oldest = cursor.fetchone()[0]
        months = 0 if oldest is None else (timezone.now().year - oldest.year) * 12 + timezone.now().month - oldest.month
        cursor.execute("SELECT samia.events_ensure_partitions(2, %s)", [months + 1])
        for moment, name, actor, props, condition in statements:
            cursor.execute(
                EVENTS_INSERT + f"SELECT {moment}, '{name}', 1, {actor}, '', 'marketplace.order', o.id, {props} "
                f"{orders}{' AND ' + condition if condition else ''}"
            )
            total += cursor.rowcount
        payments = (
            "FROM marketplace_payment p JOIN marketplace_order o ON o.id = p.order_id "
            f"JOIN accounts_user u ON u.id = o.client_id WHERE {demo}"
        )
        payment_props = (
            "jsonb_build_object('provider', p.provider, 'country', p.country, 'amount', p.amount::text, "
            "'currency', p.currency, 'attempt', p.attempt, 'order_id', p.order_id, 'fallback_of', p.fallback_of_id)"
        )
        for name, condition in [
            ("payment.attempted", "true"),
            ("payment.fallback", "p.fallback_of_id IS NOT NULL"),
            ("payment.succeeded", "p.status IN ('succeeded', 'refunded')"),
            ("payment.failed", "p.status = 'failed'"),
            ("payment.refunded", "p.status = 'refunded'"),
        ]:
            moment = "p.updated_at" if name in ("payment.refunded",) else "p.created_at"
            cursor.execute(
                EVENTS_INSERT + f"SELECT {moment}, '{name}', 1, NULL, '', 'marketplace.payment', p.id, {payment_props} "
                f"{payments} AND {condition}"
            )
            total += cursor.rowcount
        cursor.execute(
            EVENTS_INSERT + "SELECT p.updated_at, 'order.refunded', 1, NULL, '', 'marketplace.order', o.id, "
            "jsonb_strip_nulls(jsonb_build_object('service', s.code, 'gold', o.is_gold, 'reader_id', o.reader_id,"
            " 'payment_id', p.id)) "
            f"{payments.replace('JOIN accounts_user', 'JOIN marketplace_service s ON s.id = o.service_id JOIN accounts_user')}"
            " AND p.status = 'refunded'"
        )
        total += cursor.rowcount
        calls = f"FROM marketplace_call c JOIN accounts_user u ON u.id = c.client_id WHERE {demo}"
        for name, moment, condition in [
            ("call.scheduled", "c.scheduled_at", "true"),
            ("call.answered", "c.answered_at", "c.answered_at IS NOT NULL"),
            ("call.dropped", "c.ended_at", "c.status = 'dropped' AND c.ended_at IS NOT NULL"),
            ("call.ended", "c.ended_at", "c.status = 'ended' AND c.ended_at IS NOT NULL"),
        ]:
            cursor.execute(
                EVENTS_INSERT + f"SELECT {moment}, '{name}', 1, NULL, '', 'marketplace.call', c.id, "
                "jsonb_strip_nulls(jsonb_build_object('reader_id', c.reader_id, 'order_id', c.order_id, "
                "'dropped_by', NULLIF(c.dropped_by, '')))"
                f" {calls} AND {condition}"
            )
            total += cursor.rowcount
    return total
