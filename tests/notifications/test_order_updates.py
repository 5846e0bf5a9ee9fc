"""Order updates: the order's events become a push to the person each one concerns, once."""

import datetime as dt

import pytest
from django.utils import timezone

from notifications.models import Notification, Send
from notifications.order_updates import order_updates_plan
from samia.marketplace import services as marketplace
from samia.rls.binding import bound
from tests import factories
from tests.notifications.helpers import identity

pytestmark = pytest.mark.django_db


def _later():
    return timezone.now() + dt.timedelta(minutes=1)


def test_assignment_tells_the_reader_and_delivery_tells_the_client_in_their_language(personas):
    client, reader, admin = personas["client"], personas["reader"], personas["admin"]
    client.language = "ar"
    client.save(update_fields=["language"])
    order = factories.OrderFactory(client=client, status="new")
    with bound(identity(admin)):
        marketplace.order_transition(identity=identity(admin), order_id=order.pk, action="assign", reader_id=reader.pk)

    assert order_updates_plan(now=_later()) == 1
    (assigned,) = Notification.objects.all()
    assert assigned.user_id == reader.pk and assigned.kind == "order.assigned"
    assert assigned.title == "New reading assigned" and str(order.pk) in assigned.body
    assert order_updates_plan(now=_later()) == 0  # read again: nothing new

    order.refresh_from_db()
    for action, actor in (("start", reader), ("submit", reader), ("approve", admin), ("deliver", admin)):
        with bound(identity(actor)):
            marketplace.order_transition(identity=identity(actor), order_id=order.pk, action=action)
    assert order_updates_plan(now=_later()) == 1

    delivered = Notification.objects.get(kind="order.delivered")
    assert delivered.user_id == client.pk and delivered.title == "قراءتك جاهزة"
    (send,) = Send.objects.filter(notification=delivered)
    assert send.channel == "push" and send.purpose == "transactional" and not send.critical
    assert send.dedupe_key.startswith("order-event:")


def test_an_event_is_planned_once_even_when_read_again_behind_the_cursor(personas):
    order = factories.OrderFactory(client=personas["client"], status="new")
    with bound(identity(personas["admin"])):
        marketplace.order_transition(
            identity=identity(personas["admin"]), order_id=order.pk, action="assign", reader_id=personas["reader"].pk
        )
    from notifications.models import Cursor

    assert order_updates_plan(now=_later()) == 1
    Cursor.objects.update(position=timezone.now() - dt.timedelta(hours=1))  # rewind: re-read everything
    assert order_updates_plan(now=_later()) == 0
    assert Send.objects.count() == 1
