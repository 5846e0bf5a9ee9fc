"""Error paths of the marketplace routes (/orders)."""

from tests import factories
from tests.error_body_cases import UNKNOWN, _ok, case

# --- marketplace: /orders ------------------------------------------------------------------------------------------


@case("marketplace.orders.create.400-unknown-service", 400)
def _(api, p):
    factories.ServiceFactory()
    return api(p["client"]).post("/orders", {"service": "runes", "question": "Why me?"}, format="json")


@case("marketplace.orders.create.400-inactive-service", 400)
def _(api, p):
    factories.ServiceFactory(code="healing", name="Healing", is_active=False)
    return api(p["client"]).post("/orders", {"service": "healing", "question": "Why me?"}, format="json")


@case("marketplace.orders.create.400-missing-fields", 400)
def _(api, p):
    return api(p["client"]).post("/orders", {"is_gold": "sometimes"}, format="json")


@case("marketplace.orders.create.400-malformed-json", 400)
def _(api, p):
    return api(p["client"]).post("/orders", "{not json", content_type="application/json")


@case("marketplace.orders.create.401", 401)
def _(api, p):
    factories.ServiceFactory()
    return api().post("/orders", {"service": "tarot", "question": "Why me?"}, format="json")


@case("marketplace.orders.create.403-reader", 403)
def _(api, p):
    factories.ServiceFactory()
    return api(p["reader"]).post("/orders", {"service": "tarot", "question": "Why me?"}, format="json")


@case("marketplace.orders.405", 405)
def _(api, p):
    return api(p["client"]).delete("/orders")


@case("marketplace.orders.detail.404-unknown", 404)
def _(api, p):
    return api(p["admin"]).get(f"/orders/{UNKNOWN}")


@case("marketplace.orders.detail.404-not-yours", 404)
def _(api, p):
    order = factories.OrderFactory(client=p["other_client"])
    return api(p["client"]).get(f"/orders/{order.pk}")


@case("marketplace.orders.assign.400-not-a-reader", 400)
def _(api, p):
    order = factories.OrderFactory(client=p["client"])
    return api(p["admin"]).post(f"/orders/{order.pk}/assign", {"reader_id": p["other_client"].pk}, format="json")


@case("marketplace.orders.assign.400-unknown-reader", 400)
def _(api, p):
    order = factories.OrderFactory(client=p["client"])
    return api(p["admin"]).post(f"/orders/{order.pk}/assign", {"reader_id": UNKNOWN}, format="json")


@case("marketplace.orders.assign.400-reader-id-not-a-number", 400)
def _(api, p):
    order = factories.OrderFactory(client=p["client"])
    return api(p["admin"]).post(f"/orders/{order.pk}/assign", {"reader_id": "abc"}, format="json")


@case("marketplace.orders.assign.403-reader", 403)
def _(api, p):
    order = factories.OrderFactory(client=p["client"])
    return api(p["reader"]).post(f"/orders/{order.pk}/assign", {"reader_id": p["reader"].pk}, format="json")


@case("marketplace.orders.assign.404-unknown-order", 404)
def _(api, p):
    return api(p["admin"]).post(f"/orders/{UNKNOWN}/assign", {"reader_id": p["reader"].pk}, format="json")


@case("marketplace.orders.assign.409-already-assigned", 409)
def _(api, p):
    order = factories.OrderFactory(client=p["client"], reader=p["reader"], status="assigned")
    return api(p["admin"]).post(f"/orders/{order.pk}/assign", {"reader_id": p["other_reader"].pk}, format="json")


@case("marketplace.orders.cancel.409-in-progress", 409)
def _(api, p):
    order = factories.OrderFactory(client=p["client"], reader=p["reader"], status="in_progress")
    return api(p["admin"]).post(f"/orders/{order.pk}/cancel", {}, format="json")


@case("marketplace.orders.cancel.409-twice", 409)
def _(api, p):
    order = factories.OrderFactory(client=p["client"])
    client = api(p["client"])
    _ok(client.post(f"/orders/{order.pk}/cancel", {}, format="json"), 200)
    return client.post(f"/orders/{order.pk}/cancel", {}, format="json")


@case("marketplace.orders.cancel.401", 401)
def _(api, p):
    order = factories.OrderFactory(client=p["client"])
    return api().post(f"/orders/{order.pk}/cancel", {}, format="json")
