"""Error paths of the moderation routes (/monitor)."""

from tests.error_body_cases import UNKNOWN, _ok, case

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
