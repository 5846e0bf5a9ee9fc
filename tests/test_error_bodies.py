"""API error bodies stay byte-identical: status code and exact response bytes, against a golden file.

Each case drives one error path through the real stack (the DRF test client, real JWTs, PostgreSQL with
its row-level security, Redis) and records the status code and `response.content`. The golden file,
tests/error_bodies.json, was recorded from the code before the exceptions moved out of the services
(commit 847f7e2); a case fails when either the status or one byte of the body differs.

Determinism:
- every request carries a fixed X-Request-ID derived from the case name, so `request_id` is fixed;
- unknown ids are fixed (999999) and the ids of rows a case creates are only used in URLs;
- the one id that a body echoes, `appeal_id` in the "already appealed" 409, is replaced in the body
  (the exact JSON text `"appeal_id":<pk>`) by `"appeal_id":"<appeal_id>"` before comparing, in the golden
  body and the live body alike. If the id ever rendered differently (e.g. as a string), the replacement
  would not apply and the case would fail.

Regenerate the golden file only from a tree whose error bodies are the reference:

    UPDATE_ERROR_BODIES=1 python -m pytest tests/test_error_bodies.py
"""

from __future__ import annotations

import difflib
import json
import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from tests import factories
from tests.conftest import token_for
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

GOLDEN = Path(__file__).with_name("error_bodies.json")
UPDATE = os.environ.get("UPDATE_ERROR_BODIES") == "1"
UNKNOWN = 999999

CAMPAIGN = {
    "name": "Golden campaign",
    "channel": "sms",
    "audience": {"roles": ["client"]},
    "templates": {"en": {"title": "", "body": "A reading for the full moon"}},
    "send_on": "2027-03-01",
    "local_time": "10:00",
}
FORM = "application/x-www-form-urlencoded"
TWILIO_FORM = "MessageSid=SM0123&MessageStatus=delivered"


class Case:
    def __init__(self, name: str, status: int, run: Callable):
        self.name, self.status, self.run = name, status, run

    @property
    def request_id(self) -> str:
        # X-Request-ID must match ^[A-Za-z0-9-]{8,64}$ to be kept (samia/logging.py).
        return ("eb-" + re.sub(r"[^A-Za-z0-9]+", "-", self.name))[:64].rstrip("-")


CASES: dict[str, Case] = {}


def case(name: str, status: int):
    """Register a case: `run(api, personas)` returns the response (or (response, {key: id}) to normalise)."""

    def register(run):
        assert name not in CASES, name
        CASES[name] = Case(name, status, run)
        return run

    return register


def _ok(response, status: int):
    """Setup steps must succeed, or the case would record some other error than the one it names."""
    assert response.status_code == status, (response.status_code, response.content)
    return response


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


# --- moderation: /monitor ------------------------------------------------------------------------------------------


def _block(api, p, user):
    """Block `user` through the API as the monitor; returns the action id."""
    response = api(p["monitor"]).post("/monitor/block-user", {"user_id": user.pk, "reason": "abuse"}, format="json")
    return _ok(response, 201).json()["id"]


@case("moderation.block-user.400-unknown-reason", 400)
def _(api, p):
    return api(p["monitor"]).post(
        "/monitor/block-user", {"user_id": p["client"].pk, "reason": "sadness"}, format="json"
    )


@case("moderation.block-user.400-bad-input", 400)
def _(api, p):
    payload = {"user_id": "me", "reason": "spam", "duration": "soon", "evidence": ["called her a name"]}
    return api(p["monitor"]).post("/monitor/block-user", payload, format="json")


@case("moderation.block-user.401", 401)
def _(api, p):
    return api().post("/monitor/block-user", {"user_id": p["client"].pk, "reason": "spam"}, format="json")


@case("moderation.block-user.403-client", 403)
def _(api, p):
    return api(p["client"]).post(
        "/monitor/block-user", {"user_id": p["other_client"].pk, "reason": "spam"}, format="json"
    )


@case("moderation.block-user.404-unknown-user", 404)
def _(api, p):
    return api(p["admin"]).post("/monitor/block-user", {"user_id": UNKNOWN, "reason": "spam"}, format="json")


@case("moderation.block-user.403-rank-or-above", 403)
def _(api, p):
    return api(p["monitor"]).post("/monitor/block-user", {"user_id": p["admin"].pk, "reason": "abuse"}, format="json")


@case("moderation.block-user.403-yourself", 403)
def _(api, p):
    return api(p["admin"]).post("/monitor/block-user", {"user_id": p["admin"].pk, "reason": "other"}, format="json")


@case("moderation.unblock-user.409-not-blocked", 409)
def _(api, p):
    return api(p["admin"]).post("/monitor/unblock-user", {"user_id": p["reader"].pk, "reason": "other"}, format="json")


@case("moderation.appeals.resolve.404", 404)
def _(api, p):
    payload = {"decision": "uphold", "rationale": "Confirmed."}
    return api(p["monitor"]).post(f"/monitor/appeals/{UNKNOWN}/resolve", payload, format="json")


@case("moderation.appeals.resolve.409-already-decided", 409)
def _(api, p):
    action_id = _block(api, p, p["client"])
    appeal_id = _ok(api(p["admin"]).post(f"/monitor/appeals/{action_id}/open", {}, format="json"), 201).json()["id"]
    monitor = api(p["monitor"])
    url = f"/monitor/appeals/{appeal_id}/resolve"
    _ok(monitor.post(url, {"decision": "uphold", "rationale": "Confirmed."}, format="json"), 200)
    return monitor.post(url, {"decision": "overturn", "rationale": "Misread."}, format="json")


@case("moderation.appeals.open.404", 404)
def _(api, p):
    return api(p["monitor"]).post(f"/monitor/appeals/{UNKNOWN}/open", {}, format="json")


@case("moderation.appeals.open.409-not-appealable", 409)
def _(api, p):
    _block(api, p, p["client"])
    unblock = api(p["admin"]).post(
        "/monitor/unblock-user", {"user_id": p["client"].pk, "reason": "other"}, format="json"
    )
    unblock_id = _ok(unblock, 201).json()["id"]
    return api(p["admin"]).post(f"/monitor/appeals/{unblock_id}/open", {}, format="json")


@case("moderation.appeals.open.409-no-longer-in-force", 409)
def _(api, p):
    block_id = _block(api, p, p["client"])
    unblock = api(p["admin"]).post(
        "/monitor/unblock-user", {"user_id": p["client"].pk, "reason": "other"}, format="json"
    )
    _ok(unblock, 201)
    return api(p["admin"]).post(f"/monitor/appeals/{block_id}/open", {}, format="json")


@case("moderation.appeals.open.409-already-appealed", 409)
def _(api, p):
    block_id = _block(api, p, p["client"])
    admin = api(p["admin"])
    appeal_id = _ok(admin.post(f"/monitor/appeals/{block_id}/open", {}, format="json"), 201).json()["id"]
    return admin.post(f"/monitor/appeals/{block_id}/open", {}, format="json"), {"appeal_id": appeal_id}


@case("moderation.lineage.recompute.404", 404)
def _(api, p):
    return api(p["monitor"]).post("/monitor/lineage/recompute", {"case_id": UNKNOWN}, format="json")


@case("moderation.lineage.recompute.400", 400)
def _(api, p):
    return api(p["monitor"]).post("/monitor/lineage/recompute", {"case_id": 0}, format="json")


# --- notifications -------------------------------------------------------------------------------------------------


@case("notifications.suppressions.add.400-no-recipient", 400)
def _(api, p):
    return api(p["admin"]).post("/admin/suppressions", {"channel": "sms"}, format="json")


@case("notifications.suppressions.add.400-bad-address", 400)
def _(api, p):
    return api(p["admin"]).post("/admin/suppressions", {"channel": "sms", "address": "07700"}, format="json")


@case("notifications.suppressions.add.400-bad-channel", 400)
def _(api, p):
    return api(p["admin"]).post("/admin/suppressions", {"channel": "fax", "user_id": p["client"].pk}, format="json")


@case("notifications.suppressions.add.404-unknown-user", 404)
def _(api, p):
    return api(p["admin"]).post("/admin/suppressions", {"channel": "sms", "user_id": UNKNOWN}, format="json")


@case("notifications.suppressions.add.409-already-suppressed", 409)
def _(api, p):
    admin = api(p["admin"])
    payload = {"channel": "sms", "user_id": p["client"].pk, "reason": "manual"}
    _ok(admin.post("/admin/suppressions", payload, format="json"), 201)
    return admin.post("/admin/suppressions", payload, format="json")


@case("notifications.suppressions.add.403-monitor", 403)
def _(api, p):
    return api(p["monitor"]).post("/admin/suppressions", {"channel": "sms", "user_id": p["client"].pk}, format="json")


@case("notifications.suppressions.lift.404", 404)
def _(api, p):
    return api(p["admin"]).post(f"/admin/suppressions/{UNKNOWN}/lift", {}, format="json")


@case("notifications.suppressions.lift.409-already-lifted", 409)
def _(api, p):
    admin = api(p["admin"])
    added = admin.post("/admin/suppressions", {"channel": "sms", "user_id": p["client"].pk}, format="json")
    url = f"/admin/suppressions/{_ok(added, 201).json()['id']}/lift"
    _ok(admin.post(url, {}, format="json"), 200)
    return admin.post(url, {}, format="json")


@case("notifications.campaigns.create.400-unknown-language", 400)
def _(api, p):
    return api(p["admin"]).post("/admin/campaigns", {**CAMPAIGN, "templates": {"fr": {"body": "x"}}}, format="json")


@case("notifications.campaigns.create.400-extra-unknown-language", 400)
def _(api, p):
    templates = {"en": {"body": "x"}, "fr": {"body": "x"}}
    return api(p["admin"]).post("/admin/campaigns", {**CAMPAIGN, "templates": templates}, format="json")


@case("notifications.campaigns.create.400-no-english", 400)
def _(api, p):
    return api(p["admin"]).post("/admin/campaigns", {**CAMPAIGN, "templates": {"ar": {"body": "x"}}}, format="json")


@case("notifications.campaigns.create.400-empty-body", 400)
def _(api, p):
    return api(p["admin"]).post("/admin/campaigns", {**CAMPAIGN, "templates": {"en": {"body": " "}}}, format="json")


@case("notifications.campaigns.create.400-whatsapp-without-template", 400)
def _(api, p):
    return api(p["admin"]).post("/admin/campaigns", {**CAMPAIGN, "channel": "whatsapp"}, format="json")


@case("notifications.campaigns.create.400-quiet-hours", 400)
def _(api, p):
    return api(p["admin"]).post("/admin/campaigns", {**CAMPAIGN, "local_time": "23:30"}, format="json")


@case("notifications.campaigns.create.400-fields", 400)
def _(api, p):
    payload = {**CAMPAIGN, "send_on": "tomorrow", "audience": {"countries": ["Saudi"]}}
    return api(p["admin"]).post("/admin/campaigns", payload, format="json")


@case("notifications.campaigns.create.401", 401)
def _(api, p):
    return api().post("/admin/campaigns", CAMPAIGN, format="json")


@case("notifications.campaigns.create.403-client", 403)
def _(api, p):
    return api(p["client"]).post("/admin/campaigns", CAMPAIGN, format="json")


def _campaign(admin) -> str:
    """A draft campaign created through the API; returns its URL."""
    return f"/admin/campaigns/{_ok(admin.post('/admin/campaigns', CAMPAIGN, format='json'), 201).json()['id']}"


@case("notifications.campaigns.schedule.404", 404)
def _(api, p):
    return api(p["admin"]).post(f"/admin/campaigns/{UNKNOWN}/schedule")


@case("notifications.campaigns.schedule.409-paused", 409)
def _(api, p):
    admin = api(p["admin"])
    url = _campaign(admin)
    _ok(admin.post(f"{url}/schedule"), 200)
    _ok(admin.post(f"{url}/pause"), 200)
    return admin.post(f"{url}/schedule")


@case("notifications.campaigns.pause.409-draft", 409)
def _(api, p):
    admin = api(p["admin"])
    return admin.post(f"{_campaign(admin)}/pause")


@case("notifications.campaigns.pause.409-twice", 409)
def _(api, p):
    admin = api(p["admin"])
    url = _campaign(admin)
    _ok(admin.post(f"{url}/schedule"), 200)
    _ok(admin.post(f"{url}/pause"), 200)
    return admin.post(f"{url}/pause")


@case("notifications.campaigns.resume.409-scheduled", 409)
def _(api, p):
    admin = api(p["admin"])
    url = _campaign(admin)
    _ok(admin.post(f"{url}/schedule"), 200)
    return admin.post(f"{url}/resume")


@case("notifications.campaigns.pause.404", 404)
def _(api, p):
    return api(p["admin"]).post(f"/admin/campaigns/{UNKNOWN}/pause")


@case("notifications.devices.delete.404", 404)
def _(api, p):
    return api(p["client"]).delete(f"/me/devices/{UNKNOWN}")


@case("notifications.devices.delete.404-not-yours", 404)
def _(api, p):
    registered = api(p["other_client"]).post("/me/devices", {"platform": "fcm", "token": "golden-token"}, format="json")
    return api(p["client"]).delete(f"/me/devices/{_ok(registered, 201).json()['id']}")


@case("notifications.opt-in.400", 400)
def _(api, p):
    return api(p["client"]).post("/me/notifications/opt-in", {"channel": "fax", "purpose": "x"}, format="json")


@case("notifications.opt-in.400-missing", 400)
def _(api, p):
    return api(p["client"]).post("/me/notifications/opt-in", {}, format="json")


@case("notifications.opt-in.401", 401)
def _(api, p):
    return api().post("/me/notifications/opt-in", {"channel": "sms", "purpose": "marketing"}, format="json")


@case("notifications.webhooks.twilio-status.403-not-configured", 403)
def _(api, p):
    with override_settings(TWILIO_AUTH_TOKEN=""):
        return api().post("/webhooks/twilio/status", TWILIO_FORM, content_type=FORM)


@case("notifications.webhooks.twilio-status.403-bad-signature", 403)
def _(api, p):
    with override_settings(TWILIO_AUTH_TOKEN="golden-auth-token", PUBLIC_BASE_URL="https://api.samia.test"):
        return api().post("/webhooks/twilio/status", TWILIO_FORM, content_type=FORM, HTTP_X_TWILIO_SIGNATURE="forged")


# --- analytics: /metrics -------------------------------------------------------------------------------------------


@case("analytics.payments.400-to-before-from", 400)
def _(api, p):
    return api(p["admin"]).get("/metrics/payments", {"from": "2026-01-10", "to": "2026-01-01"})


@case("analytics.payments.400-range-too-long", 400)
def _(api, p):
    return api(p["admin"]).get("/metrics/payments", {"from": "2024-01-01", "to": "2026-01-01"})


@case("analytics.payments.400-bad-group-by", 400)
def _(api, p):
    return api(p["admin"]).get("/metrics/payments", {"from": "2026-01-01", "to": "2026-01-02", "group_by": "moon"})


@case("analytics.payments.400-bad-date", 400)
def _(api, p):
    return api(p["admin"]).get("/metrics/payments", {"from": "yesterday", "to": "2026-13-01"})


@case("analytics.payments.401", 401)
def _(api, p):
    return api().get("/metrics/payments", {"from": "2026-01-01", "to": "2026-01-02"})


@case("analytics.payments.403-client", 403)
def _(api, p):
    return api(p["client"]).get("/metrics/payments", {"from": "2026-01-01", "to": "2026-01-02"})


# --- audit: /admin/audit -------------------------------------------------------------------------------------------


@case("audit.entries.400-bad-filters", 400)
def _(api, p):
    return api(p["admin"]).get("/admin/audit", {"actor": "x", "outcome": "maybe"})


@case("audit.entries.400-to-before-from", 400)
def _(api, p):
    return api(p["admin"]).get("/admin/audit", {"from": "2026-02-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"})


@case("audit.entries.401", 401)
def _(api, p):
    return api().get("/admin/audit")


@case("audit.entries.403-client", 403)
def _(api, p):
    return api(p["client"]).get("/admin/audit")


@case("audit.attest.503-no-signing-key", 503)
def _(api, p):
    with override_settings(AUDIT_SIGNING_KEY=""):
        return api(p["admin"]).post("/admin/audit/attest")


@case("audit.attest.403-client", 403)
def _(api, p):
    return api(p["client"]).post("/admin/audit/attest")


# --- accounts: /auth/token, /me ------------------------------------------------------------------------------------


@case("accounts.token.400-empty", 400)
def _(api, p):
    return api().post("/auth/token", {}, format="json")


@case("accounts.token.400-bad-email", 400)
def _(api, p):
    return api().post("/auth/token", {"email": "not-an-email", "password": "x"}, format="json")


@case("accounts.token.401-wrong-password", 401)
def _(api, p):
    user = factories.UserFactory(email="golden@example.test")
    return api().post("/auth/token", {"email": user.email, "password": "wrong-password"}, format="json")


@case("accounts.token.401-unknown-account", 401)
def _(api, p):
    return api().post("/auth/token", {"email": "nobody@example.test", "password": PASSWORD}, format="json")


@case("accounts.me.401-no-token", 401)
def _(api, p):
    return api().get("/me")


@case("accounts.me.401-malformed-token", 401)
def _(api, p):
    return api().get("/me", HTTP_AUTHORIZATION="Bearer not.a.token")


@case("accounts.me.patch.400-read-only", 400)
def _(api, p):
    return api(p["client"]).patch("/me", {"role": "admin", "email": "new@example.test"}, format="json")


@case("accounts.me.patch.400-bad-values", 400)
def _(api, p):
    return api(p["client"]).patch("/me", {"timezone": "Mars/Olympus", "country": "XX"}, format="json")


@case("accounts.me.patch.400-language", 400)
def _(api, p):
    return api(p["client"]).patch("/me", {"language": "fr"}, format="json")


@case("accounts.me.patch.400-not-an-object", 400)
def _(api, p):
    return api(p["client"]).patch("/me", ["timezone"], format="json")


# --- Django's own handlers -----------------------------------------------------------------------------------------


@case("django.unknown-path.404", 404)
def _(api, p):
    return api().get("/no/such/path")


# --- the test ------------------------------------------------------------------------------------------------------


def _client_for(request_id: str):
    def api(user=None) -> APIClient:
        client = APIClient()
        headers = {"HTTP_X_REQUEST_ID": request_id}
        if user is not None:
            headers["HTTP_AUTHORIZATION"] = f"Bearer {token_for(user)}"
        client.credentials(**headers)
        return client

    return api


def normalise(body: str, ids: dict[str, int]) -> str:
    """Replace `"key":<id>` by `"key":"<key>"` for the ids a case names (see the module docstring)."""
    for key, value in ids.items():
        body = body.replace(f'"{key}":{value}', f'"{key}":"<{key}>"')
    return body


def _pretty(body: str) -> list[str]:
    try:
        return json.dumps(json.loads(body), indent=2, ensure_ascii=False).splitlines()
    except ValueError:
        return body.splitlines()


def _difference(name: str, expected: dict, status: int, body: str) -> str:
    lines = [f"{name}: the error response changed."]
    if status != expected["status"]:
        lines.append(f"  status: golden {expected['status']}, now {status}")
    if body != expected["body"]:
        lines.append(f"  golden body: {expected['body']}")
        lines.append(f"  live body:   {body}")
        diff = list(difflib.unified_diff(_pretty(expected["body"]), _pretty(body), "golden", "live", lineterm=""))
        if diff:
            lines.extend(["  diff (pretty-printed):", *("    " + line for line in diff)])
        else:
            lines.append("  same JSON, different bytes (key order, spacing or escaping)")
    return "\n".join(lines)


@pytest.fixture(scope="module")
def golden():
    recorded = json.loads(GOLDEN.read_text(encoding="utf-8")) if GOLDEN.exists() else {}
    yield recorded
    if UPDATE:
        kept = {name: recorded[name] for name in sorted(recorded) if name in CASES}
        GOLDEN.write_text(json.dumps(kept, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


@pytest.mark.parametrize("name", list(CASES))
def test_the_error_body_is_byte_identical(personas, golden, name):
    case_ = CASES[name]
    result = case_.run(_client_for(case_.request_id), personas)
    response, ids = result if isinstance(result, tuple) else (result, {})
    status, body = response.status_code, normalise(response.content.decode("utf-8"), ids)

    if UPDATE:
        assert status == case_.status, (name, status, body)
        assert json.loads(body)["error"]["request_id"] == case_.request_id, (name, body)
        golden[name] = {"status": status, "body": body}
        return
    assert name in golden, f"{name} has no golden entry: record it from the reference tree with UPDATE_ERROR_BODIES=1"
    expected = golden[name]
    if (status, body) != (expected["status"], expected["body"]):
        pytest.fail(_difference(name, expected, status, body), pytrace=False)


@pytest.mark.skipif(UPDATE, reason="the golden file is being rewritten")
def test_the_golden_file_holds_exactly_the_cases():
    recorded = json.loads(GOLDEN.read_text(encoding="utf-8"))

    assert sorted(recorded) == sorted(CASES)
