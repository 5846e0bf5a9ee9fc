"""Issue 14, item 9: no input answers 500; each answers 4xx in the one error shape and changes nothing."""

import base64
import json
import re

import pytest
from django.apps import apps
from django.db import connection
from django.forms import MultiWidget
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils.timezone import now

from tests.conftest import api_as
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

BIGGER_THAN_BIGINT = 2**63


def _client(user=None):
    client = api_as(user)
    # A server error is an answer here, not an exception in the test.
    client.raise_request_exception = False
    return client


def _table_counts() -> dict:
    with connection.cursor() as cursor:
        counts = {}
        for model in apps.get_models():
            if model._meta.managed and not model._meta.proxy:
                cursor.execute(f'SELECT count(*) FROM "{model._meta.db_table}"')
                counts[model._meta.db_table] = cursor.fetchone()[0]
        return counts


def _assert_refused(response, status=None):
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:300])
    if status is not None:
        assert response.status_code == status, response.content[:300]
    error = response.json()["error"]
    assert set(error) <= {"code", "message", "details", "request_id"} and error["code"] and error["message"]
    assert "Traceback" not in response.content.decode() and "psycopg" not in response.content.decode()


def _routes(resolver=None, prefix=""):
    """Every (path with sample ids, view class) of the API."""
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            if not str(entry.pattern).startswith("backoffice/"):
                yield from _routes(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern) and hasattr(entry.callback, "view_class"):
            path = re.sub(r"<(?:int|str):\w+>", "1", prefix + str(entry.pattern))
            yield "/" + path, entry.callback.view_class


def _json_writes():
    found = []
    for path, view in _routes():
        if any(parser.media_type == "application/json" for parser in view.parser_classes):
            found.extend((method, path) for method in ("post", "put", "patch") if hasattr(view, method))
    return found


JSON_WRITES = _json_writes()
DEEP_BODIES = {
    "arrays": "[" * 20000,
    "closed arrays": "[" * 20000 + "]" * 20000,
    "objects": '{"a":' * 20000 + "1" + "}" * 20000,
    "just past the limit": '{"a":' * 40 + "1" + "}" * 40,
}


def test_the_route_list_covers_the_json_writes():
    assert ("post", "/auth/token") in JSON_WRITES and ("patch", "/me") in JSON_WRITES
    assert ("post", "/admin/campaigns") in JSON_WRITES and ("post", "/monitor/block-user") in JSON_WRITES
    assert len(JSON_WRITES) >= 15


@pytest.mark.parametrize("method,path", JSON_WRITES)
@pytest.mark.parametrize("body", DEEP_BODIES.values(), ids=DEEP_BODIES.keys())
def test_deeply_nested_json_is_never_a_500_on_any_json_route(personas, method, path, body):
    before = _table_counts()

    for persona in (None, "client", "reader", "monitor", "admin"):
        response = getattr(_client(persona and personas[persona]), method)(path, body, content_type="application/json")

        # A route that takes no body never reads it; every other one refuses it, or the caller, with a 4xx.
        assert response.status_code < 500, (persona, response.content[:300])
        if response.status_code >= 400:
            _assert_refused(response)
            assert _table_counts() == before


READS_THE_BODY = [
    (None, "post", "/auth/token"),
    (None, "post", "/auth/token/refresh"),
    ("client", "patch", "/me"),
    ("client", "post", "/orders"),
    ("client", "post", "/me/notifications/opt-in"),
    ("client", "post", "/me/devices"),
    ("monitor", "post", "/monitor/block-user"),
    ("monitor", "post", "/monitor/moderate/order/1"),
    ("admin", "post", "/admin/campaigns"),
    ("admin", "post", "/admin/suppressions"),
    ("admin", "post", "/admin/notifications"),
]


@pytest.mark.parametrize("persona,method,path", READS_THE_BODY)
@pytest.mark.parametrize("body", DEEP_BODIES.values(), ids=DEEP_BODIES.keys())
def test_deeply_nested_json_is_a_400_where_the_body_is_read(personas, persona, method, path, body):
    before = _table_counts()

    response = getattr(_client(persona and personas[persona]), method)(path, body, content_type="application/json")

    _assert_refused(response, 400)
    assert response.json()["error"]["code"] == "malformed_request"
    assert _table_counts() == before


def test_json_nested_within_the_limit_still_parses(personas):
    body = {"email": "nobody@example.com", "password": "x", "extra": [[[[{"a": [1]}]]]]}

    response = _client().post("/auth/token", json.dumps(body), content_type="application/json")

    assert response.status_code == 401


def _encoded(position: bytes) -> str:
    return base64.b64encode(position).decode()


CURSOR_LISTS = [
    "/orders",
    "/calls",
    "/payments",
    "/monitor/cases",
    "/admin/audit",
    "/admin/campaigns",
    "/admin/suppressions",
    "/community/threads",  # 404 while the community switch is off, as a forged cursor is
    "/admin/ar/assets",
    "/ar/assets",
    "/personalization/metrics",
    "/admin/runbooks",
]
FORGED_CURSORS = {
    "text position": _encoded(b"p=abc"),
    "NUL": _encoded(b"p=1\x00"),
    "huge int": _encoded(b"p=99999999999999999999999"),
    "negative offset": _encoded(b"o=-1"),
    "not base64": "not base64 at all!",
}


def test_every_cursor_list_is_in_the_list():
    # grep-proof: every view that pages with self.paginated is one of CURSOR_LISTS.
    paged = {path for path, view in _routes() if hasattr(view, "get") and "self.paginated" in _source(view.get)}
    assert paged == set(CURSOR_LISTS)


def _source(function) -> str:
    import inspect

    return inspect.getsource(function)


@pytest.mark.parametrize("path", CURSOR_LISTS)
@pytest.mark.parametrize("cursor", FORGED_CURSORS.values(), ids=FORGED_CURSORS.keys())
def test_a_forged_cursor_is_a_404_on_every_cursor_list(world, path, cursor):
    response = _client(world["personas"]["admin"]).get(path, {"cursor": cursor})

    _assert_refused(response, 404)
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("path", CURSOR_LISTS)
def test_a_raw_nul_in_the_cursor_is_refused_on_every_cursor_list(world, path):
    response = _client(world["personas"]["admin"]).get(path, {"cursor": "cD0x\x00"})

    # 400 where the view parses its query (a NUL in a parameter), else 404 (an invalid cursor).
    assert response.status_code in (400, 404)
    _assert_refused(response)


EXTREME_DATES = [
    ("/metrics/overview", {"date": "0001-01-01"}),
    ("/metrics/overview", {"date": "9999-12-31"}),
    ("/metrics/overview", {"date": "1999-12-31"}),
    ("/metrics/fulfillment", {"from": "0001-01-01", "to": "0001-12-01"}),
    ("/metrics/payments", {"to": "0001-01-05"}),
    ("/metrics/calls", {"from": "9999-12-01", "to": "9999-12-31"}),
    ("/metrics/engagement", {"from": "0001-01-01", "to": "0001-02-01"}),
    ("/metrics/engagement", {"to": "9999-12-31"}),
]


@pytest.mark.parametrize("path,query", EXTREME_DATES)
def test_an_extreme_date_on_a_metrics_route_is_a_400(personas, path, query):
    response = _client(personas["admin"]).get(path, query)

    _assert_refused(response, 400)
    assert response.json()["error"]["code"] == "invalid"
    assert set(response.json()["error"]["details"]) <= {"date", "from", "to"}


def test_a_sane_date_on_a_metrics_route_still_answers(personas):
    response = _client(personas["admin"]).get("/metrics/overview", {"date": "2024-02-29"})

    assert response.status_code == 200 and response.json()["date"] == "2024-02-29"


def _campaign(**templates) -> dict:
    return {
        "name": "Spring",
        "channel": "push",
        "audience": {"roles": ["client"]},
        "templates": templates or {"en": {"title": "Hi", "body": "Hello"}},
        "send_on": "2030-01-01",
        "local_time": "10:00",
    }


NUL_BODIES = [
    ("post", "/admin/campaigns", _campaign(en={"title": "a\x00b", "body": "x"})),
    ("post", "/admin/campaigns", _campaign(en={"title\x00": "a", "body": "x"})),
    ("post", "/admin/campaigns", _campaign(en={"title": "a", "body": "x", "extra": ["\x00"]})),
    ("post", "/auth/token", {"email": "a@example.com", "password": "pass\x00word"}),
    ("patch", "/me", {"timezone": "Europe/Paris\x00"}),
    ("post", "/monitor/block-user", {"user_id": 1, "reason": "spam\x00", "note": "x"}),
]


@pytest.mark.parametrize("method,path,body", NUL_BODIES)
def test_a_nul_character_in_a_json_string_is_a_400(personas, method, path, body):
    before = _table_counts()

    response = getattr(_client(personas["admin"]), method)(path, json.dumps(body), content_type="application/json")

    _assert_refused(response, 400)
    assert response.json()["error"]["code"] == "invalid" and len(response.json()["error"]["details"]) == 1
    assert _table_counts() == before


NUL_QUERIES = [
    ("/admin/audit", {"target_id": "1\x00"}),
    ("/admin/audit", {"action\x00": "x"}),
    ("/orders", {"status": "new\x00"}),
    ("/admin/suppressions", {"channel": "sms\x00"}),
    ("/monitor/cases", {"team": "\x00"}),
    ("/metrics/fulfillment", {"group_by": "country\x00"}),
    ("/me/notifications", {"limit": "5\x00"}),
]


@pytest.mark.parametrize("path,query", NUL_QUERIES)
def test_a_nul_character_in_the_query_string_is_a_400(personas, path, query):
    response = _client(personas["admin"]).get(path, query)

    _assert_refused(response, 400)


HUGE_IDS = [
    ("get", f"/orders/{BIGGER_THAN_BIGINT}"),
    ("get", f"/orders/{10**30}"),
    ("post", f"/orders/{BIGGER_THAN_BIGINT}/cancel"),
    ("get", f"/admin/campaigns/{BIGGER_THAN_BIGINT}"),
    ("get", f"/admin/campaigns/{BIGGER_THAN_BIGINT}/stats"),
    ("post", f"/admin/campaigns/{BIGGER_THAN_BIGINT}/pause"),
    ("delete", f"/me/devices/{BIGGER_THAN_BIGINT}"),
    ("post", f"/monitor/moderate/order/{BIGGER_THAN_BIGINT}"),
]


@pytest.mark.parametrize("method,path", HUGE_IDS)
def test_an_id_past_bigint_in_the_path_is_a_404(personas, method, path):
    before = _table_counts()

    response = getattr(_client(personas["admin"]), method)(path, {}, format="json")

    assert response.status_code in (400, 404), response.content[:300]
    _assert_refused(response)
    assert _table_counts() == before


HUGE_BODY_IDS = [
    ("post", "/monitor/block-user", {"user_id": BIGGER_THAN_BIGINT, "reason": "spam"}),
    ("post", "/monitor/unblock-user", {"user_id": BIGGER_THAN_BIGINT, "reason": "appeal_upheld"}),
    ("get", "/admin/audit", {"actor": BIGGER_THAN_BIGINT}),
    ("get", "/admin/suppressions", {"user_id": BIGGER_THAN_BIGINT}),
    ("get", "/monitor/cases", {"subject": BIGGER_THAN_BIGINT}),
]


@pytest.mark.parametrize("method,path,data", HUGE_BODY_IDS)
def test_an_id_past_bigint_in_a_body_or_query_finds_nothing(personas, method, path, data):
    client = _client(personas["admin"])
    before = _table_counts()

    if method == "get":
        response = client.get(path, data)
        # A filter on an id no row can have matches nothing.
        assert (response.status_code, response.json()["results"]) == (200, [])
    else:
        response = client.post(path, json.dumps(data), content_type="application/json")
        _assert_refused(response)
    assert _table_counts() == before


# The back office: saves that Postgres refuses come back as a message in words on the same page.


def _back_office(user) -> Client:
    client = Client(raise_request_exception=False)
    assert client.post("/backoffice/login/", {"username": user.email, "password": PASSWORD}).status_code == 302
    return client


def _form_data(page) -> dict:
    """What the browser posts back for a change page as shown: the form's and every inline's current values."""
    data = {}
    forms = [page.context["adminform"].form]
    for inline in page.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        data.update({management.add_prefix(name): value for name, value in management.initial.items()})
        forms.extend(inline.formset.forms)
    for form in forms:
        for name, field in form.fields.items():
            value = form[name].value()
            if value is None or value is False:
                continue
            if isinstance(field.widget, MultiWidget):  # e.g. the split date and time of a datetime
                data.update(
                    {f"{form.add_prefix(name)}_{i}": part for i, part in enumerate(field.widget.decompress(value))}
                )
            else:
                data[form.add_prefix(name)] = "on" if value is True else value
    return data


def _refused_on_the_same_page(client, url, response):
    assert response.status_code == 302 and response.url == url, (response.status_code, response.content[:300])
    again = client.get(url)
    assert again.status_code == 200
    shown = [str(m) for m in again.context["messages"]]
    assert len(shown) == 1 and "SQL" not in shown[0] and "violates" not in shown[0]
    return shown[0]


def test_a_case_resolved_on_its_form_without_the_stamp_is_a_message_not_a_500(personas):
    from moderation.models import Case, ReasonCode

    case = Case.objects.create(
        subject=personas["client"], reason=ReasonCode.objects.get(code="spam"), priority="low", sla_due_at=now()
    )
    client = _back_office(personas["monitor"])
    url = f"/backoffice/moderation/case/{case.pk}/change/"
    data = _form_data(client.get(url))
    before = _table_counts()

    # Nothing on the case form is edited directly (issue 15): resolving needs a note, through its button.
    response = client.post(url, {**data, "status": "resolved", "resolution_note": ""})

    message = _refused_on_the_same_page(client, url, response)
    assert message == "A case changes only through the actions on its page."
    case.refresh_from_db()
    assert case.status == "open"
    assert _table_counts() == before


def test_an_order_change_a_trigger_refuses_is_a_message_not_a_500(world):
    order = world["orders"]["new"]
    client = _back_office(world["personas"]["admin"])
    url = f"/backoffice/marketplace/order/{order.pk}/change/"
    data = _form_data(client.get(url))
    before = _table_counts()

    # Nothing on the order form is edited directly (issue 15): orders move through the buttons on the page.
    response = client.post(url, {**data, "is_gold": "on"})

    message = _refused_on_the_same_page(client, url, response)
    assert message == "An order changes only through the buttons on its page."
    order.refresh_from_db()
    assert order.is_gold is False
    assert _table_counts() == before
