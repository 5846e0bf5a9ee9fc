"""Order updates: a push to the client or the reader when their order moves.

The marketplace kernel does not know this app (the kernel never imports a milestone app); it
emits order events in the same transaction as each change. This job reads those events and
plans one transactional notification per event for the person it concerns, in their language.
It keeps a cursor and re-reads a margin behind it (events commit a little after they are
stamped); a send's dedupe key (`order-event:<event id>`) makes re-reading harmless.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from notifications import services
from notifications.models import Cursor, Send
from samia.accounts.models import Language, User
from samia.marketplace.models import Order

CURSOR = "order_updates"
# Events younger than this may still be in a transaction that has not committed; re-read this far back.
SETTLE = dt.timedelta(seconds=5)
MARGIN = dt.timedelta(minutes=10)
BATCH = 2000

# event -> (who hears about it, title, body), through the gettext catalogs; {order} is the order number.
MESSAGES = {
    "order.assigned": ("reader", _("New reading assigned"), _("Order #{order} is waiting for you.")),
    "order.rejected": ("reader", _("Reading sent back"), _("Order #{order} needs another look.")),
    "order.delivered": ("client", _("Your reading is ready"), _("Order #{order} has been delivered.")),
    "order.refunded": ("client", _("Refund issued"), _("Order #{order} has been refunded.")),
}


def order_updates_plan(*, now: dt.datetime | None = None) -> int:
    """Plan notifications for order events since the cursor; returns how many were planned."""
    now = now or timezone.now()
    until = now - SETTLE
    planned = 0
    with transaction.atomic():
        cursor, _ = Cursor.objects.select_for_update().get_or_create(name=CURSOR, defaults={"position": now - MARGIN})
        after = (cursor.position - MARGIN, 0)
        while True:
            with connection.cursor() as db:
                db.execute(
                    "SELECT id, occurred_at, name, subject_id FROM events_raw "
                    "WHERE name = ANY(%s) AND subject_type = 'marketplace.order' "
                    "AND (occurred_at, id) > (%s, %s) AND occurred_at <= %s "
                    "ORDER BY occurred_at, id LIMIT %s",
                    [list(MESSAGES), *after, until, BATCH],
                )
                events = db.fetchall()
            planned += _plan(events)
            if len(events) < BATCH:
                break
            after = (events[-1][1], events[-1][0])
        cursor.position = max(cursor.position, until)
        cursor.save(update_fields=["position"])
    return planned


def _plan(events: list[tuple]) -> int:
    if not events:
        return 0
    channels = settings.NOTIFICATIONS_ORDER_UPDATE_CHANNELS
    keys = [f"order-event:{event_id}" for event_id, *_ in events]
    done = {
        key.rsplit(":", 1)[0]
        for key in Send.objects.filter(dedupe_key__in=[f"{k}:{c}" for k in keys for c in channels]).values_list(
            "dedupe_key", flat=True
        )
    }
    orders = {
        o["id"]: o for o in Order.objects.filter(pk__in={e[3] for e in events}).values("id", "client_id", "reader_id")
    }
    people = {o[f"{role}_id"] for o in orders.values() for role in ("client", "reader") if o[f"{role}_id"]}
    languages = dict(User.objects.filter(pk__in=people).values_list("id", "language"))
    planned = 0
    for event_id, _occurred_at, name, order_id in events:
        key = f"order-event:{event_id}"
        order = orders.get(order_id)
        role, title, body = MESSAGES[name]
        recipient = order[f"{role}_id"] if order else None
        if key in done or not recipient:
            continue
        with translation.override(languages.get(recipient) or Language.ENGLISH):
            title, body = str(title), str(body)
        services.notify(
            user_id=recipient,
            kind=name,
            title=title,
            body=body.format(order=order_id),
            actor="system:notifications.order_updates",
            channels=tuple(channels),
            critical=name in settings.NOTIFICATIONS_CRITICAL_KINDS,
            data={"order_id": order_id},
            dedupe=key,
        )
        planned += 1
    return planned
