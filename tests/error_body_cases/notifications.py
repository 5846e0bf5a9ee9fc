"""Error paths of the notifications routes (suppressions, campaigns, devices, consents, webhooks)."""

from django.test import override_settings

from tests.error_body_cases import CAMPAIGN, FORM, TWILIO_FORM, UNKNOWN, _ok, case

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
