"""Error paths of the analytics, audit and accounts routes, and of Django's own handlers."""

from django.test import override_settings

from tests import factories
from tests.error_body_cases import case
from tests.factories import PASSWORD

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
