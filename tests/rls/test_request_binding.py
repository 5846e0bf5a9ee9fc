"""Every request runs as the app role with the caller's identity, in one transaction that fails closed."""

import pytest
from django.test import Client, override_settings
from django.urls import path
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from samia.marketplace import selectors
from samia.marketplace.models import Service
from samia.rls.access import writes
from samia.rls.binding import current_identity
from tests.conftest import api_as, token_for

pytestmark = pytest.mark.django_db


class WritesThen(APIView):
    access = {"POST": writes("marketplace_service", "insert")}

    def post(self, request, outcome):
        Service.objects.create(code="astro", name="Astro", base_price=1)
        if outcome == "invalid":
            raise ValidationError({"x": ["bad"]})
        if outcome == "crash":
            raise RuntimeError("crash")
        return Response({"ok": True}, status=201)


urlpatterns = [path("writes/<str:outcome>", WritesThen.as_view())]
handler500 = "samia.errors.server_error"


def test_it_runs_request_queries_as_the_app_role_with_the_callers_identity(personas, monkeypatch):
    seen = []
    original = selectors.order_list

    def spy(**kwargs):
        seen.append(current_identity())
        return original(**kwargs)

    monkeypatch.setattr(selectors, "order_list", spy)

    api_as(personas["reader"]).get("/orders")
    api_as().get("/orders")  # refused before any query
    api_as(personas["admin"]).get("/orders")

    assert seen == [
        ("samia_app", str(personas["reader"].pk), "reader"),
        ("samia_app", str(personas["admin"].pk), "admin"),
    ]


def test_it_leaves_no_identity_behind_after_a_request(personas):
    api_as(personas["admin"]).get("/orders")

    role, user_id, role_setting = current_identity()
    assert role != "samia_app"
    assert (user_id, role_setting) == (None, None)


@override_settings(ROOT_URLCONF=__name__)
@pytest.mark.parametrize(("outcome", "status"), [("ok", 201), ("invalid", 400), ("crash", 500)])
def test_it_commits_only_successful_requests(personas, outcome, status):
    client = Client(raise_request_exception=False, HTTP_AUTHORIZATION=f"Bearer {token_for(personas['admin'])}")

    response = client.post(f"/writes/{outcome}")

    assert response.status_code == status
    assert Service.objects.filter(code="astro").exists() == (outcome == "ok")
