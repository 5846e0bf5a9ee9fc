"""The back office: staff log in with a session, and see and change what the declarations allow."""

import pytest
from django.contrib import admin
from django.test import Client

from samia.rls.admin import ReadOnlyAdmin
from samia.rls.registry import DECLARATIONS, Identity
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

OPERATIONS = {"view": "select", "add": "insert", "change": "update", "delete": "delete"}


def _logged_in(user) -> Client:
    client = Client()
    response = client.post("/backoffice/login/", {"username": user.email, "password": PASSWORD})
    assert response.status_code == 302, response.content[:300]
    return client


@pytest.mark.parametrize("role", ["monitor", "admin", "superadmin"])
def test_it_lets_staff_log_in_and_browse_every_page_they_may_see(world, role):
    user = world["personas"][role]
    client = _logged_in(user)

    assert client.get("/backoffice/").status_code == 200
    for model in admin.site._registry:
        url = f"/backoffice/{model._meta.app_label}/{model._meta.model_name}/"
        allowed = Identity(user.pk, role).persona in DECLARATIONS[model._meta.db_table].roles_for("select")
        response = client.get(url)
        assert response.status_code == (200 if allowed else 403), url


@pytest.mark.parametrize("role", ["client", "reader"])
def test_it_keeps_clients_and_readers_out(personas, role):
    client = Client()

    response = client.post("/backoffice/login/", {"username": personas[role].email, "password": PASSWORD})

    assert response.status_code == 200  # the form again, with an error
    assert client.get("/backoffice/").status_code == 302


@pytest.mark.parametrize("role", ["monitor", "admin", "superadmin"])
def test_it_derives_every_admin_permission_from_the_declarations(personas, rf, role):
    request = rf.get("/backoffice/")
    request.user = personas[role]

    for model, model_admin in admin.site._registry.items():
        declaration = DECLARATIONS[model._meta.db_table]
        read_only = isinstance(model_admin, ReadOnlyAdmin)  # e.g. the audit trail: viewed, never edited
        for action, operation in OPERATIONS.items():
            checker = getattr(model_admin, f"has_{action}_permission")
            granted = checker(request)
            expected = role in declaration.roles_for(operation) and not (read_only and action != "view")
            # write_roles narrows writing further (periodic tasks: superadmins only)
            write_roles = getattr(model_admin, "write_roles", None)
            if action != "view" and write_roles is not None:
                expected = expected and role in write_roles
            assert granted == expected, (model, action)


def test_it_shows_order_details_and_moves_orders_with_actions(world):
    client = _logged_in(world["personas"]["admin"])
    order = world["orders"]["approved"]

    page = client.get(f"/backoffice/marketplace/order/{order.pk}/change/")
    response = client.post(
        "/backoffice/marketplace/order/",
        {"action": "order_deliver", "_selected_action": [order.pk]},
    )

    assert page.status_code == 200
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == "delivered"


def test_it_uploads_media_and_measures_it(world):
    import io
    import wave

    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(b"\x00\x00" * 8000 * 3)
    buffer.seek(0)
    buffer.name = "reading.wav"
    client = _logged_in(world["personas"]["admin"])

    response = client.post(
        "/backoffice/marketplace/mediaasset/add/",
        {"owner": world["personas"]["reader"].pk, "kind": "audio", "upload": buffer},
    )

    assert response.status_code == 302, response.content[:500]
    from samia.marketplace.models import MediaAsset

    asset = MediaAsset.objects.latest("id")
    assert (asset.kind, asset.bytes, float(asset.duration_seconds)) == ("audio", len(buffer.getvalue()), 3.0)
