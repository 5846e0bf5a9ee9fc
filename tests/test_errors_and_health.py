import pytest
from django.test import Client, override_settings
from django.urls import path
from rest_framework.views import APIView

from samia.health import checks
from samia.rls.access import Open
from tests.conftest import api_as


class Explodes(APIView):
    access = {"GET": Open("test view")}

    def get(self, request):
        raise RuntimeError("secret detail alice@example.com")


urlpatterns = [path("boom", Explodes.as_view())]
handler500 = "samia.errors.server_error"


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=__name__)
def test_it_answers_a_500_with_only_the_request_id():
    client = Client(raise_request_exception=False)

    response = client.get("/boom", HTTP_X_REQUEST_ID="req-abcdef12")

    assert response.status_code == 500
    assert response.json() == {
        "error": {
            "code": "server_error",
            "message": "Internal server error; quote the request id when reporting it.",
            "request_id": "req-abcdef12",
        }
    }


@pytest.mark.django_db
def test_it_answers_unknown_paths_with_json_404():
    response = Client().get("/no/such/path")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.django_db
def test_it_answers_wrong_methods_with_json_405(make_user):
    response = api_as(make_user()).delete("/orders")

    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_it_is_alive_without_touching_anything():
    response = Client().get("/healthz")

    assert (response.status_code, response.json()) == (200, {"status": "ok"})


@pytest.mark.django_db
def test_it_is_ready_when_postgres_redis_and_migrations_are():
    response = Client().get("/readyz")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "redis": "ok", "migrations": "ok", "event_partitions": "ok"},
    }


@pytest.mark.django_db
def test_it_is_not_ready_when_redis_is_down(monkeypatch):
    import redis

    dead = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    monkeypatch.setattr(checks, "get_redis", lambda: dead)

    response = Client().get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"]["redis"] == "unavailable (ConnectionError)"
    assert response.json()["checks"]["database"] == "ok"


@pytest.mark.django_db
def test_it_serves_the_openapi_schema_and_docs():
    schema = Client().get("/api/schema/?format=json")
    docs = Client().get("/api/docs/")

    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert {"/orders", "/orders/{order_id}/approve", "/auth/token", "/me", "/horoscopes/daily"} <= set(paths)
    assert "409" in paths["/orders/{order_id}/approve"]["post"]["responses"]
    assert docs.status_code == 200
