import pytest

from samia.marketplace.models import Order
from samia.marketplace.states import TRANSITIONS
from tests import factories
from tests.conftest import api_as

pytestmark = pytest.mark.django_db


def _snapshot():
    return list(Order.objects.order_by("id").values())


# --- create ---------------------------------------------------------------------------------------------------------


def test_it_lets_a_client_order_a_reading(personas):
    factories.ServiceFactory(code="coffee", name="Coffee")

    response = api_as(personas["client"]).post(
        "/orders", {"service": "coffee", "question": "Is this the year?", "is_gold": True}, format="json"
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["service"], body["status"], body["is_gold"], body["client_id"]) == (
        "coffee",
        "new",
        True,
        personas["client"].pk,
    )
    assert Order.objects.get(pk=body["id"]).client == personas["client"]


@pytest.mark.parametrize("persona", ["reader", "monitor", "admin", "superadmin"])
def test_it_refuses_order_creation_to_other_roles(personas, persona):
    factories.ServiceFactory()

    response = api_as(personas[persona]).post("/orders", {"service": "tarot", "question": "Why?"}, format="json")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    assert Order.objects.count() == 0


def test_it_asks_anonymous_callers_to_log_in(db):
    response = api_as().post("/orders", {"service": "tarot", "question": "Why?"}, format="json")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"question": "Why me?"}, "service"),
        ({"service": "runes", "question": "Why me?"}, "service"),
        ({"service": "tarot"}, "question"),
        ({"service": "tarot", "question": "x" * 2001}, "question"),
        ({"service": "tarot", "question": "Why me?", "is_gold": "sometimes"}, "is_gold"),
    ],
)
def test_it_rejects_bad_order_input_and_changes_nothing(personas, payload, field):
    factories.ServiceFactory()

    response = api_as(personas["client"]).post("/orders", payload, format="json")

    assert response.status_code == 400
    assert field in response.json()["error"]["details"]
    assert Order.objects.count() == 0


def test_it_rejects_an_inactive_service(personas):
    factories.ServiceFactory(code="healing", name="Healing", is_active=False)

    response = api_as(personas["client"]).post("/orders", {"service": "healing", "question": "Why?"}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"service": ["Unknown or inactive service."]}


def test_it_rejects_malformed_json(personas):
    response = api_as(personas["client"]).post("/orders", "{not json", content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_request"


# --- read -----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "order", "expected"),
    [
        ("client", "new", 200),
        ("client", "awaiting", 404),  # Bob's order
        ("reader", "awaiting", 200),
        ("reader", "approved", 404),  # assigned to another reader
        ("other_reader", "new", 404),  # not assigned to anyone
        ("monitor", "approved", 200),
        ("admin", "other_new", 200),
        ("superadmin", "in_progress", 200),
    ],
)
def test_it_shows_an_order_only_to_who_may_see_it(world, persona, order, expected):
    response = api_as(world["personas"][persona]).get(f"/orders/{world['orders'][order].pk}")

    assert response.status_code == expected
    if expected == 404:
        assert response.json()["error"]["code"] == "not_found"


def test_it_answers_404_for_an_order_that_does_not_exist(personas):
    assert api_as(personas["admin"]).get("/orders/999999").status_code == 404


def test_it_filters_the_list_by_status_and_rejects_unknown_statuses(world):
    admin = api_as(world["personas"]["admin"])

    listed = admin.get("/orders?status=approved").json()["results"]
    bad = admin.get("/orders?status=lost")

    assert [row["id"] for row in listed] == [world["orders"]["approved"].pk]
    assert bad.status_code == 400
    assert "status" in bad.json()["error"]["details"]


# --- transitions ----------------------------------------------------------------------------------------------------

# For each action: an order of the world in a valid source state, and who may act on that very order.
ACTION_ORDERS = {
    "assign": "new",
    "start": "assigned",
    "submit": "in_progress",
    "approve": "awaiting",
    "reject": "awaiting",
    "deliver": "approved",
    "cancel": "new",
}
PAYLOADS = {"assign": "reader_id", "reject": "reason"}


def _payload(action, world):
    if action == "assign":
        return {"reader_id": world["personas"]["reader"].pk}
    if action == "reject":
        return {"reason": "The reading does not answer the question."}
    return {}


def _expected(action, persona):
    role = persona.removeprefix("other_")
    if role not in TRANSITIONS[action].roles:
        return 403
    # The client of "new" and the reader of "assigned"/"in_progress" are the un-prefixed personas.
    return 404 if persona.startswith("other_") else 200


TRANSITION_MATRIX = [
    (action, persona)
    for action in TRANSITIONS
    for persona in ["client", "other_client", "reader", "other_reader", "monitor", "admin", "superadmin"]
]


@pytest.mark.parametrize(("action", "persona"), TRANSITION_MATRIX)
def test_it_lets_only_the_right_party_move_an_order(world, action, persona):
    order = world["orders"][ACTION_ORDERS[action]]
    before = _snapshot()

    response = api_as(world["personas"][persona]).post(
        f"/orders/{order.pk}/{action}", _payload(action, world), format="json"
    )

    expected = _expected(action, persona)
    assert response.status_code == expected, response.content
    if expected == 200:
        order.refresh_from_db()
        assert order.status == TRANSITIONS[action].target
        assert getattr(order, TRANSITIONS[action].stamp) is not None
        assert response.json()["status"] == order.status
    else:
        assert _snapshot() == before


def test_it_refuses_anonymous_transitions(world):
    response = api_as().post(f"/orders/{world['orders']['new'].pk}/cancel", {}, format="json")

    assert response.status_code == 401


@pytest.mark.parametrize(
    ("action", "order", "persona"),
    [
        ("start", "in_progress", "reader"),
        ("deliver", "new", "admin"),
        ("approve", "approved", "monitor"),
        ("cancel", "in_progress", "admin"),
        ("assign", "assigned", "admin"),
    ],
)
def test_it_answers_409_with_the_current_status_for_an_illegal_transition(world, action, order, persona):
    target = world["orders"][order]
    before = _snapshot()

    response = api_as(world["personas"][persona]).post(
        f"/orders/{target.pk}/{action}", _payload(action, world), format="json"
    )

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "conflict"
    assert error["details"]["status"] == target.status
    assert _snapshot() == before


def test_it_answers_409_when_a_client_cancels_twice(world):
    client = api_as(world["personas"]["client"])
    order_id = world["orders"]["new"].pk

    first = client.post(f"/orders/{order_id}/cancel", {}, format="json")
    second = client.post(f"/orders/{order_id}/cancel", {}, format="json")

    assert first.status_code == 200
    assert second.status_code == 409
    assert second.json()["error"]["details"]["status"] == "cancelled"


@pytest.mark.parametrize(
    "payload",
    [{}, {"reader_id": "abc"}, {"reader_id": 0}, {"reader_id": 999999}, "client"],
)
def test_it_rejects_an_assignment_to_anyone_but_an_active_reader(world, payload):
    if payload == "client":
        payload = {"reader_id": world["personas"]["client"].pk}
    order = world["orders"]["new"]

    response = api_as(world["personas"]["admin"]).post(f"/orders/{order.pk}/assign", payload, format="json")

    assert response.status_code == 400
    assert "reader_id" in response.json()["error"]["details"]
    order.refresh_from_db()
    assert (order.status, order.reader_id) == ("new", None)


def test_it_rejects_an_assignment_to_a_blocked_reader(world):
    from django.utils import timezone

    reader = world["personas"]["other_reader"]
    reader.blocked_at = timezone.now()
    reader.save(update_fields=["blocked_at"])

    response = api_as(world["personas"]["admin"]).post(
        f"/orders/{world['orders']['new'].pk}/assign", {"reader_id": reader.pk}, format="json"
    )

    assert response.status_code == 400


def test_it_requires_a_reason_to_reject(world):
    response = api_as(world["personas"]["monitor"]).post(
        f"/orders/{world['orders']['awaiting'].pk}/reject", {}, format="json"
    )

    assert response.status_code == 400
    assert "reason" in response.json()["error"]["details"]


def test_it_takes_a_gold_order_all_the_way_to_delivered(personas):
    # given a gold order
    factories.ServiceFactory()
    client, reader, monitor, admin = (
        api_as(personas["client"]),
        api_as(personas["reader"]),
        api_as(personas["monitor"]),
        api_as(personas["admin"]),
    )
    order_id = client.post("/orders", {"service": "tarot", "question": "Gold?", "is_gold": True}, format="json").json()[
        "id"
    ]

    # when it goes through every step, including a rejection and a resubmission
    steps = [
        (admin, "assign", {"reader_id": personas["reader"].pk}),
        (reader, "start", {}),
        (reader, "submit", {}),
        (monitor, "reject", {"reason": "Too short, please expand."}),
        (reader, "submit", {}),
        (monitor, "approve", {}),
        (admin, "deliver", {}),
    ]
    statuses = []
    for api, action, payload in steps:
        response = api.post(f"/orders/{order_id}/{action}", payload, format="json")
        assert response.status_code == 200, (action, response.content)
        statuses.append(response.json()["status"])

    # then it is delivered with every stamp set, in order
    assert statuses == [
        "assigned",
        "in_progress",
        "awaiting_approval",
        "rejected",
        "awaiting_approval",
        "approved",
        "delivered",
    ]
    order = Order.objects.get(pk=order_id)
    assert order.is_gold
    stamps = [order.created_at, order.assigned_at, order.started_at, order.submitted_at, order.decided_at]
    assert stamps == sorted(stamps)
    assert order.delivered_at >= order.decided_at
    assert order.cancelled_at is None
    assert order.rejection_reason == "Too short, please expand."
    assert client.get(f"/orders/{order_id}").json()["status"] == "delivered"
