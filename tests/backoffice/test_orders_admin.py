"""The order page (issue 15, items 3 and 5): the transitions offered are exactly those the guard admits for
this order's state and this staff role; each button calls the service; a refusal is a message in words.

Bob the monitor approves and rejects, Alice the admin assigns, delivers and cancels, Sam the superadmin does all.
"""

import re

import pytest
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from samia.audit.models import AuditEntry
from samia.exceptions import Conflict
from samia.marketplace import services
from samia.marketplace.admin import ORDER_BUTTONS
from samia.marketplace.models import Order
from samia.marketplace.states import ALL_TRANSITIONS, HELD, TRANSITIONS, OrderStatus
from samia.rls.binding import bound
from samia.rls.registry import STAFF, Identity
from tests.factories import PASSWORD, OrderFactory, UserFactory

pytestmark = pytest.mark.django_db

ORDERS = "/backoffice/marketplace/order/"


def _logged_in(user) -> Client:
    client = Client()
    assert client.post("/backoffice/login/", {"username": user.email, "password": PASSWORD}).status_code == 302
    return client


def _offered(html: str) -> set[str]:
    return set(re.findall(r'data-action="(\w+)"', html))


def _messages(response) -> list[tuple[str, str]]:
    return [(m.level_tag, str(m)) for m in response.context["messages"]] if response.context else []


def _order_in(status: str, personas) -> Order:
    held_from = "approved" if status in HELD else ""
    reader = None if status in ("new",) else personas["reader"]
    return OrderFactory(client=personas["client"], reader=reader, status=status, held_from=held_from)


def _guard_admits(identity: Identity, order: Order, action: str, reader) -> bool:
    """Ask the service (and Postgres behind it) by taking the transition, then undo it."""
    with bound(identity):
        try:
            with transaction.atomic():
                services.order_transition(
                    identity=identity, order_id=order.pk, action=action, reader_id=reader.pk, reason="Too short."
                )
                transaction.set_rollback(True)
        except (Conflict, PermissionDenied, ValidationError, ObjectDoesNotExist, DatabaseError):
            return False
    return True


def test_the_kernel_offers_a_button_for_every_transition_staff_may_take():
    staff_actions = {action for action, t in TRANSITIONS.items() if set(t.roles) & set(STAFF)}

    assert staff_actions == {"assign", "approve", "reject", "deliver", "cancel"}
    assert staff_actions <= set(ORDER_BUTTONS)


@pytest.mark.parametrize("role", ["monitor", "admin", "superadmin"])
@pytest.mark.parametrize("status", OrderStatus.values)
def test_the_buttons_offered_are_the_guards_answer(personas, role, status):
    # given an order in this state
    user = personas[role]
    order = _order_in(status, personas)

    # when the staff member opens its page
    page = _logged_in(user).get(f"{ORDERS}{order.pk}/change/")

    # then the buttons are exactly the transitions the service and Postgres accept from this role
    admitted = {
        action
        for action in ALL_TRANSITIONS
        if _guard_admits(Identity(user.pk, role), order, action, personas["reader"])
    }
    assert page.status_code == 200
    assert _offered(page.content.decode()) == admitted & set(ORDER_BUTTONS)
    order.refresh_from_db()
    assert order.status == status


def test_an_admin_assigns_an_order_with_the_reader_picker(personas):
    order = _order_in("new", personas)
    inactive = UserFactory(role="reader", is_active=False, first_name="Gone")
    client = _logged_in(personas["admin"])

    page = client.get(f"{ORDERS}{order.pk}/change/").content.decode()
    response = client.post(f"{ORDERS}{order.pk}/transition/assign/", {"reader": personas["reader"].pk}, follow=True)

    assert f'<option value="{personas["reader"].pk}">{personas["reader"]}</option>' in page
    assert f'value="{inactive.pk}"' not in page  # only active readers are offered
    order.refresh_from_db()
    assert (order.status, order.reader_id) == ("assigned", personas["reader"].pk)
    assert _messages(response) == [("success", f"Order #{order.pk}: assign done; it is now assigned.")]
    assert AuditEntry.objects.filter(action="marketplace.order.assign", target_id=str(order.pk)).count() == 1


def test_assigning_an_inactive_reader_is_a_message_and_changes_nothing(personas):
    order = _order_in("new", personas)
    inactive = UserFactory(role="reader", is_active=False)

    response = _logged_in(personas["admin"]).post(
        f"{ORDERS}{order.pk}/transition/assign/", {"reader": inactive.pk}, follow=True
    )

    assert response.status_code == 200
    [(level, text)] = _messages(response)
    assert level == "error" and text.startswith("Assign: Reader: Select a valid choice.")
    order.refresh_from_db()
    assert (order.status, order.reader_id) == ("new", None)


def test_a_monitor_approves_an_order_awaiting_approval(personas):
    order = _order_in("awaiting_approval", personas)

    response = _logged_in(personas["monitor"]).post(f"{ORDERS}{order.pk}/transition/approve/", follow=True)

    order.refresh_from_db()
    assert order.status == "approved" and order.decided_at is not None
    assert _messages(response) == [("success", f"Order #{order.pk}: approve done; it is now approved.")]


def test_a_rejection_needs_a_reason_and_keeps_it_in_its_own_direction(personas):
    order = _order_in("awaiting_approval", personas)
    client = _logged_in(personas["monitor"])
    reason = "القراءة قصيرة جدًا"

    empty = client.post(f"{ORDERS}{order.pk}/transition/reject/", {"reason": ""}, follow=True)
    order.refresh_from_db()
    status_after_empty = order.status
    done = client.post(f"{ORDERS}{order.pk}/transition/reject/", {"reason": reason}, follow=True)

    assert status_after_empty == "awaiting_approval"
    assert _messages(empty) == [("error", "Reject: Reason: This field is required.")]
    order.refresh_from_db()
    assert (order.status, order.rejection_reason) == ("rejected", reason)
    assert f'<div dir="auto" style="white-space: pre-line">{reason}</div>' in done.content.decode()


@pytest.mark.parametrize(
    ("status", "action", "after"), [("approved", "deliver", "delivered"), ("new", "cancel", "cancelled")]
)
def test_an_admin_delivers_and_cancels(personas, status, action, after):
    order = _order_in(status, personas)

    response = _logged_in(personas["admin"]).post(f"{ORDERS}{order.pk}/transition/{action}/", follow=True)

    order.refresh_from_db()
    assert order.status == after
    assert _messages(response) == [("success", f"Order #{order.pk}: {action} done; it is now {after}.")]


@pytest.mark.parametrize(("status", "action"), [("approved", "deliver"), ("new", "cancel"), ("new", "assign")])
def test_a_monitor_posting_a_transition_not_offered_reads_why_and_nothing_changes(personas, status, action):
    order = _order_in(status, personas)

    response = _logged_in(personas["monitor"]).post(
        f"{ORDERS}{order.pk}/transition/{action}/", {"reader": personas["reader"].pk}, follow=True
    )

    assert response.status_code == 200
    label = order.get_status_display().lower()
    assert _messages(response) == [("error", f"You cannot {action} order #{order.pk} now: it is {label}.")]
    order.refresh_from_db()
    assert order.status == status
    assert not AuditEntry.objects.filter(action=f"marketplace.order.{action}").exists()


def test_a_stale_button_on_an_order_that_moved_on_is_a_message(personas):
    order = _order_in("awaiting_approval", personas)
    client = _logged_in(personas["admin"])
    client.post(f"{ORDERS}{order.pk}/transition/approve/", follow=True)

    again = client.post(f"{ORDERS}{order.pk}/transition/approve/", follow=True)

    assert _messages(again) == [("error", f"You cannot approve order #{order.pk} now: it is approved.")]


def test_unknown_actions_missing_orders_and_gets_are_not_server_errors(personas):
    order = _order_in("new", personas)
    client = _logged_in(personas["admin"])

    unknown = client.post(f"{ORDERS}{order.pk}/transition/start/", follow=True)
    missing = client.post(f"{ORDERS}999999/transition/approve/", follow=True)
    get = client.get(f"{ORDERS}{order.pk}/transition/cancel/")

    assert _messages(unknown) == [("error", f"You cannot do that to order #{order.pk} now: it is new.")]
    assert _messages(missing) == [("error", "No such order.")]
    assert get.status_code == 405
    order.refresh_from_db()
    assert order.status == "new"


@pytest.mark.parametrize("role", ["client", "reader"])
def test_clients_and_readers_get_no_back_office(personas, role):
    order = _order_in("new", personas)
    client = Client()
    client.force_login(personas[role])

    page = client.get(f"{ORDERS}{order.pk}/change/")
    post = client.post(f"{ORDERS}{order.pk}/transition/cancel/")

    assert page.status_code == 302 and "/backoffice/login/" in page["Location"]
    assert post.status_code == 302 and "/backoffice/login/" in post["Location"]
    order.refresh_from_db()
    assert order.status == "new"


def test_bulk_actions_offer_each_role_only_its_moves_and_report_done_and_refused(personas):
    approved, new = _order_in("approved", personas), _order_in("new", personas)
    monitor_list = _logged_in(personas["monitor"]).get(ORDERS).content.decode()
    admin = _logged_in(personas["admin"])

    response = admin.post(ORDERS, {"action": "order_deliver", "_selected_action": [approved.pk, new.pk]}, follow=True)

    assert 'value="order_approve"' in monitor_list
    assert 'value="order_deliver"' not in monitor_list and 'value="order_cancel"' not in monitor_list
    [(level, text)] = _messages(response)
    assert level == "warning" and text.startswith("1 done, 1 refused.")
    assert "CONTEXT" not in text and "PL/pgSQL" not in text
    approved.refresh_from_db()
    new.refresh_from_db()
    assert (approved.status, new.status) == ("delivered", "new")


def test_the_list_shows_people_labels_and_zoned_times(personas):
    personas["admin"].timezone = "Asia/Riyadh"
    personas["admin"].save()
    nora = UserFactory(role="client", first_name="Nora", last_name="Haddad", email="nora@demo.samia.test")
    order = OrderFactory(
        client=nora, reader=personas["reader"], status="awaiting_approval", question="أرجو قراءة فنجاني"
    )

    listing = _logged_in(personas["admin"]).get(ORDERS).content.decode()
    page = _logged_in(personas["admin"]).get(f"{ORDERS}{order.pk}/change/").content.decode()

    assert "Nora Haddad (n***@demo.samia.test)" in listing
    assert "nora@demo.samia.test" not in listing
    assert "client #" not in listing and "reader #" not in listing
    assert "Awaiting approval" in listing and ">awaiting_approval<" not in listing
    assert "(Asia/Riyadh)" in listing
    assert '<div dir="auto" style="white-space: pre-line">أرجو قراءة فنجاني</div>' in page
    assert "(Asia/Riyadh)" in page


def test_the_order_list_costs_the_same_queries_for_2_or_20_orders(personas):
    client = _logged_in(personas["admin"])
    for _ in range(2):
        OrderFactory(client=UserFactory(role="client"), reader=UserFactory(role="reader"), status="assigned")
    client.get(ORDERS)
    with CaptureQueriesContext(connection) as few:
        client.get(ORDERS)
    for _ in range(18):
        OrderFactory(client=UserFactory(role="client"), reader=UserFactory(role="reader"), status="assigned")
    with CaptureQueriesContext(connection) as many:
        client.get(ORDERS)

    assert len(many) == len(few)


def _marketplace_rows(personas, count: int) -> None:
    from tests import factories

    for _ in range(count):
        client, reader = UserFactory(role="client"), UserFactory(role="reader")
        order = OrderFactory(client=client, reader=reader, status="assigned")
        factories.MediaAssetFactory(owner=reader, order=order)
        factories.CallFactory(order=order, client=client, reader=reader)
        factories.PaymentFactory(order=order)


@pytest.mark.parametrize("model", ["mediaasset", "call", "payment", "horoscope"])
def test_the_other_marketplace_lists_cost_the_same_queries_for_few_or_many_rows(personas, model):
    from tests.factories import HoroscopeFactory, days_ago

    client = _logged_in(personas["admin"])
    url = f"/backoffice/marketplace/{model}/"
    _marketplace_rows(personas, 2)
    HoroscopeFactory(sign="aries", approved_by=personas["admin"])
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    _marketplace_rows(personas, 10)
    for day, sign in enumerate(["leo", "virgo", "libra", "scorpio"]):
        HoroscopeFactory(sign=sign, date=days_ago(day + 1), approved_by=UserFactory(role="admin"))
    with CaptureQueriesContext(connection) as many:
        client.get(url)

    assert len(many) == len(few)


def test_horoscope_text_is_laid_out_in_its_own_direction(personas):
    from tests.factories import HoroscopeFactory

    horoscope = HoroscopeFactory(sign="leo", text_en="يوم هادئ يناسب التأمل")
    client = _logged_in(personas["admin"])

    listing = client.get("/backoffice/marketplace/horoscope/").content.decode()
    page = client.get(f"/backoffice/marketplace/horoscope/{horoscope.pk}/change/").content.decode()

    assert '<div dir="auto" style="white-space: pre-line">يوم هادئ يناسب التأمل</div>' in listing
    textareas = re.findall(r"<textarea[^>]*>", page)
    assert textareas and all('dir="auto"' in tag for tag in textareas)


def test_the_order_form_offers_no_save_and_a_posted_form_changes_nothing(personas):
    order = _order_in("new", personas)
    client = _logged_in(personas["admin"])
    url = f"{ORDERS}{order.pk}/change/"

    page = client.get(url).content.decode()
    response = client.post(url, {"is_gold": "on", "question": "Changed?"}, follow=True)

    assert 'name="_save"' not in page and 'name="_continue"' not in page
    assert _messages(response) == [("warning", "An order changes only through the buttons on its page.")]
    order.refresh_from_db()
    assert (order.is_gold, order.question, order.status) == (False, "What does the week hold?", "new")
