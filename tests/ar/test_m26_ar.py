"""M26 AR assets: lineage measured from the bytes, the routes and who may call them, RLS, removal, audit and events."""

import hashlib
import re

import pytest
from django.core.files.storage import storages

from ar import services
from ar.models import ArAsset, ArLink
from samia.audit.models import AuditEntry
from samia.events.models import EventRaw
from samia.rls.registry import Identity
from tests.ar import media
from tests.ar.conftest import link, state, upload
from tests.conftest import api_as, rows_as
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db

NOBODY = Identity(None, None)


def _identity(user):
    return Identity(user.pk, user.role)


# --- lineage, measured from the bytes ----------------------------------------------------------------------------


LINEAGE = [
    ("gif", media.gif((100, 200, 300)), "animation", "image/gif", 600, 3, (16, 12)),
    ("apng", media.apng((40, 60, 80, 120)), "animation", "image/png", 300, 4, (20, 10)),
    ("still png", media.still("PNG"), "overlay", "image/png", None, 1, (30, 20)),
    ("jpeg", media.still("JPEG", (40, 30)), "overlay", "image/jpeg", None, 1, (40, 30)),
    ("mp4", media.video("mp4", "libx264", frames=24, rate=24), "effect", "video/mp4", 1000, 24, (64, 48)),
    ("webm", media.video("webm", "libvpx-vp9", frames=12, rate=24), "effect", "video/webm", 500, 12, (64, 48)),
    ("glb", media.glb(binary=b"\x01\x02\x03"), "model_3d", "model/gltf-binary", None, None, (None, None)),
]


@pytest.mark.parametrize(
    ("content", "kind", "content_type", "duration_ms", "frames", "size"),
    [case[1:] for case in LINEAGE],
    ids=[case[0] for case in LINEAGE],
)
def test_it_measures_what_it_stores_from_the_bytes(personas, content, kind, content_type, duration_ms, frames, size):
    # when an admin uploads it under a name and type that say nothing true
    response = upload(personas["admin"], content, kind, name="upload.txt")

    # then what is recorded was measured from the bytes, and the bytes are stored privately as sent
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["kind"], body["content_type"], body["duration_ms"], body["frame_count"]) == (
        kind,
        content_type,
        duration_ms,
        frames,
    )
    assert (body["width"], body["height"]) == size
    assert (body["bytes"], body["sha256"]) == (len(content), hashlib.sha256(content).hexdigest())
    asset = ArAsset.objects.get(pk=body["id"])
    assert asset.storage_key.startswith("ar/") and "upload" not in asset.storage_key
    with storages["private"].open(asset.storage_key) as stored:
        assert stored.read() == content


def _truncated_faststart_mp4(tmp_path):
    path = tmp_path / "faststart.mp4"
    media.video("mp4", "mpeg4", frames=48, target=str(path), options={"movflags": "faststart"}, noise=True)
    whole = path.read_bytes()
    assert whole[4:8] == b"ftyp" and b"moov" in whole[:2048]  # the index comes first: only the frames are cut
    return whole[: len(whole) * 2 // 3]


MP4 = media.video("mp4", "libx264", frames=24)
BAD_UPLOADS = [
    ("a JPEG renamed .glb", media.still("JPEG"), "model_3d", 400),
    ("a GLB declared as overlay", media.glb(), "overlay", 400),
    ("a still image as an animation", media.still("PNG"), "animation", 400),
    ("an MP4 cut short", MP4[: len(MP4) // 2], "effect", 400),
    ("a GIF cut short", media.gif()[:-30], "animation", 400),
    ("a GLB whose length lies", media.glb() + b"\x00\x00\x00\x00", "model_3d", 400),
    ("a GLB whose JSON does not parse", media.glb()[:20] + b"{not json" + media.glb()[29:], "model_3d", 400),
    ("a PDF", b"%PDF-1.7\n1 0 obj\n", "overlay", 415),
    ("text", b"just some text, no magic", "effect", 415),
]


@pytest.mark.parametrize(("content", "kind", "status"), [c[1:] for c in BAD_UPLOADS], ids=[c[0] for c in BAD_UPLOADS])
def test_it_refuses_bytes_that_are_not_what_the_kind_needs(personas, content, kind, status):
    before = state()

    response = upload(personas["admin"], content, kind, name="model.glb")

    assert response.status_code == status, response.content
    assert response.json()["error"]["code"] == {400: "invalid", 415: "unsupported_type"}[status]
    assert state() == before


def test_it_refuses_an_mp4_whose_frames_were_cut_after_its_index(personas, tmp_path):
    response = upload(personas["admin"], _truncated_faststart_mp4(tmp_path), "effect")

    assert response.status_code == 400
    message = response.json()["error"]["details"]["file"][0]
    assert re.fullmatch(r"The file cannot be read whole: truncated: \d+ of 48 frames\.", message), message


def test_it_refuses_an_upload_over_the_limit_with_413(personas, settings):
    settings.AR_MAX_UPLOAD_BYTES = 1000
    before = state()

    response = upload(personas["admin"], media.video("mp4", "libx264", frames=48), "effect")

    assert response.status_code == 413
    assert response.json()["error"]["details"] == {"max_bytes": 1000}
    assert state() == before


def test_it_answers_the_same_bytes_again_with_the_stored_asset(personas):
    content = media.gif()
    first = upload(personas["admin"], content, "animation")

    again = upload(personas["superadmin"], content, "overlay")

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert ArAsset.objects.count() == 1
    assert AuditEntry.objects.filter(action="ar.asset.create").count() == 1


def test_it_pauses_uploads_while_the_budget_is_spent(personas):
    from samia import degraded

    def spent(feature):
        return "storage_budget" if feature == "ar_upload" else None

    degraded.checker_register(spent)
    try:
        response = upload(personas["admin"], media.gif(), "animation")
    finally:
        degraded.CHECKERS.remove(spent)

    assert response.status_code == 503
    assert response.json()["error"]["details"] == {"feature": "ar_upload", "reason": "storage_budget"}
    assert not ArAsset.objects.exists()


# --- who may call each route -------------------------------------------------------------------------------------

ROLES = ["client", "reader", "monitor", "admin", "superadmin", None]


@pytest.mark.parametrize("persona", ROLES)
def test_it_lets_only_admins_upload(personas, persona):
    user = personas.get(persona)
    before = state()

    response = upload(user, media.gif(), "animation")

    expected = {None: 401, "admin": 201, "superadmin": 201}.get(persona, 403)
    assert response.status_code == expected
    if expected != 201:
        assert state() == before


@pytest.mark.parametrize("persona", ROLES)
def test_it_lets_only_admins_link(ar_world, persona):
    user = ar_world["personas"].get(persona)
    asset, order = ar_world["assets"]["unlinked"], ar_world["orders"]["mine"]
    before = state()

    response = link(user, asset_id=asset.pk, order_id=order.pk)

    expected = {None: 401, "admin": 201, "superadmin": 201}.get(persona, 403)
    assert response.status_code == expected
    if expected != 201:
        assert state() == before


def test_it_links_idempotently_and_refuses_bad_targets(ar_world):
    admin = ar_world["personas"]["admin"]
    asset, order, horoscope = ar_world["assets"]["unlinked"], ar_world["orders"]["mine"], ar_world["horoscope"]

    first = link(admin, asset_id=asset.pk, order_id=order.pk)
    again = link(admin, asset_id=asset.pk, order_id=order.pk)
    on_horoscope = link(admin, asset_id=asset.pk, horoscope_id=horoscope.pk)

    assert (first.status_code, again.status_code, on_horoscope.status_code) == (201, 200, 201)
    assert first.json()["id"] == again.json()["id"]
    assert ArLink.objects.filter(asset=asset).count() == 2
    assert AuditEntry.objects.filter(action="ar.asset.link", target_id=str(first.json()["id"])).count() == 1
    before = state()
    assert link(admin, asset_id=asset.pk, order_id=999999).status_code == 404
    assert link(admin, asset_id=asset.pk, horoscope_id=999999).status_code == 404
    assert link(admin, asset_id=999999, order_id=order.pk).status_code == 404
    both = link(admin, asset_id=asset.pk, order_id=order.pk, horoscope_id=horoscope.pk)
    assert (both.status_code, list(both.json()["error"]["details"])) == (400, ["order_id"])
    assert link(admin, asset_id=asset.pk).status_code == 400
    assert link(admin, asset_id="x", order_id=order.pk).status_code == 400
    assert state() == before


def test_it_refuses_to_link_a_removed_asset_with_409(ar_world, django_capture_on_commit_callbacks):
    admin = ar_world["personas"]["admin"]
    asset = ar_world["assets"]["unlinked"]
    services.asset_remove(identity=_identity(admin), asset_id=asset.pk)

    response = link(admin, asset_id=asset.pk, order_id=ar_world["orders"]["mine"].pk)

    assert response.status_code == 409
    assert response.json()["error"]["details"] == {"asset_id": asset.pk, "status": "removed"}


# --- readers: assets of their assigned orders only ---------------------------------------------------------------


def test_it_shows_a_reader_the_assets_of_their_assigned_orders_only(ar_world):
    p, assets, orders = ar_world["personas"], ar_world["assets"], ar_world["orders"]

    def listed(user, query=""):
        response = api_as(user).get(f"/ar/assets{query}")
        return response.status_code, [row["id"] for row in response.json().get("results", [])]

    assert listed(p["reader"], f"?order_id={orders['mine'].pk}") == (200, [assets["mine"].pk])
    assert listed(p["reader"]) == (200, [assets["mine"].pk])
    assert listed(p["other_reader"], f"?order_id={orders['mine'].pk}")[0] == 404
    assert listed(p["other_reader"]) == (200, [assets["theirs"].pk])
    assert listed(p["client"], f"?order_id={orders['mine'].pk}")[0] == 403
    assert listed(None)[0] == 401
    admin_ids = listed(p["admin"])[1]
    assert sorted(admin_ids) == sorted(a.pk for a in assets.values())


def test_postgres_shows_a_reader_only_the_rows_behind_their_assigned_orders(ar_world):
    p, assets = ar_world["personas"], ar_world["assets"]

    def seen(user, table):
        identity = _identity(user) if user else NOBODY
        return {row[0] for row in rows_as(identity, f"SELECT id FROM {table}")}

    assert seen(p["reader"], "ar_arasset") == {assets["mine"].pk}
    assert seen(p["reader"], "ar_arlink") == set(
        ArLink.objects.filter(order=ar_world["orders"]["mine"]).values_list("id", flat=True)
    )
    assert seen(p["other_reader"], "ar_arasset") == {assets["theirs"].pk}
    for persona in ("client", "other_client", "monitor"):
        assert seen(p[persona], "ar_arasset") == seen(p[persona], "ar_arlink") == set()
    assert seen(None, "ar_arasset") == seen(None, "ar_arlink") == set()
    assert seen(p["admin"], "ar_arasset") == seen(p["superadmin"], "ar_arasset") == {a.pk for a in assets.values()}


@pytest.mark.parametrize(
    ("persona", "asset", "status"),
    [
        ("reader", "mine", 200),
        ("reader", "theirs", 404),
        ("reader", "unlinked", 404),
        ("other_reader", "mine", 404),
        ("client", "mine", 403),
        ("monitor", "mine", 403),
        ("admin", "unlinked", 200),
        (None, "mine", 401),
    ],
)
def test_it_hands_out_urls_only_for_assets_the_caller_may_see(ar_world, persona, asset, status):
    user = ar_world["personas"].get(persona)
    asset = ar_world["assets"][asset]

    response = api_as(user).get(f"/ar/assets/{asset.pk}/url")

    assert response.status_code == status
    issued = EventRaw.objects.filter(name="ar.url_issued", subject_id=asset.pk)
    if status == 200:
        assert set(response.json()) == {"url", "expires_at"}
        assert [(e.actor_id, e.properties) for e in issued] == [(user.pk, {"asset_id": asset.pk, "bytes": asset.bytes})]
    else:
        assert not issued.exists()


def test_a_reader_downloads_the_bytes_through_the_url_they_were_given(ar_world, private_files):
    reader, asset = ar_world["personas"]["reader"], ar_world["assets"]["mine"]
    url = api_as(reader).get(f"/ar/assets/{asset.pk}/url").json()["url"]

    response = api_as(reader).get(url.split("localhost:8000", 1)[1])

    assert response.status_code == 200
    assert response["Content-Type"] == "image/gif"
    assert b"".join(response.streaming_content) == (private_files / asset.storage_key).read_bytes()
    assert response["Content-Length"] == str(asset.bytes)


# --- the admin list -----------------------------------------------------------------------------------------------


def test_it_lists_assets_for_admins_by_kind_order_and_horoscope_a_page_at_a_time(ar_world):
    admin, assets = ar_world["personas"]["admin"], ar_world["assets"]

    def ids(query):
        response = api_as(admin).get(f"/admin/ar/assets{query}")
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["results"]]

    assert ids("?kind=overlay") == [assets["unlinked"].pk, assets["theirs"].pk]
    assert ids(f"?order_id={ar_world['orders']['mine'].pk}") == [assets["mine"].pk]
    assert ids(f"?horoscope_id={ar_world['horoscope'].pk}") == [assets["horoscope"].pk]
    first = api_as(admin).get("/admin/ar/assets?page_size=3").json()
    second = api_as(admin).get(first["next"]).json()
    assert [r["id"] for r in first["results"] + second["results"]] == sorted(
        (a.pk for a in assets.values()), reverse=True
    )
    assert api_as(admin).get("/admin/ar/assets?kind=hologram").status_code == 400
    assert api_as(admin).get("/admin/ar/assets?order_id=abc").status_code == 400


# --- removal ---------------------------------------------------------------------------------------------------------


def test_removal_deletes_the_object_on_commit_keeps_the_lineage_and_ends_every_url(
    ar_world, private_files, django_capture_on_commit_callbacks
):
    p, asset = ar_world["personas"], ar_world["assets"]["mine"]
    url = api_as(p["reader"]).get(f"/ar/assets/{asset.pk}/url").json()["url"].split("localhost:8000", 1)[1]
    stored = private_files / asset.storage_key
    assert stored.exists()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.asset_remove(identity=_identity(p["admin"]), asset_id=asset.pk)

    assert len(callbacks) == 1 and not stored.exists()
    asset.refresh_from_db()
    assert asset.removed_at is not None and asset.sha256 and asset.frame_count == 3
    assert api_as(p["reader"]).get(url).status_code == 410
    assert api_as(p["reader"]).get(f"/ar/assets/{asset.pk}/url").status_code == 404
    assert api_as(p["admin"]).get(f"/ar/assets/{asset.pk}/url").status_code == 410
    assert [e.details for e in AuditEntry.objects.filter(action="ar.asset.remove")] == [
        {"sha256": asset.sha256, "bytes": asset.bytes}
    ]


def test_the_download_checks_removal_again_even_when_the_object_survived(ar_world, private_files):
    p, asset = ar_world["personas"], ar_world["assets"]["mine"]
    url = api_as(p["reader"]).get(f"/ar/assets/{asset.pk}/url").json()["url"].split("localhost:8000", 1)[1]

    # the deletion after commit did not run (it failed, or the process died): the object is still there
    services.asset_remove(identity=_identity(p["admin"]), asset_id=asset.pk)
    assert (private_files / asset.storage_key).exists()

    response = api_as(None).get(url)
    assert (response.status_code, response.json()["error"]["code"]) == (410, "gone")


# --- audit ----------------------------------------------------------------------------------------------------------


def test_it_audits_creation_and_linking_with_ids_and_hashes_only(personas):
    admin = personas["admin"]
    content = media.glb()
    created = upload(admin, content, "model_3d").json()
    order = OrderFactory()
    linked = link(admin, asset_id=created["id"], order_id=order.pk).json()

    entries = {e.action: e for e in AuditEntry.objects.filter(family="ar")}
    assert set(entries) == {"ar.asset.create", "ar.asset.link"}
    create = entries["ar.asset.create"]
    assert (create.actor_id, create.target_type, create.target_id) == (admin.pk, "ar.arasset", str(created["id"]))
    assert create.details == {"kind": "model_3d", "sha256": hashlib.sha256(content).hexdigest(), "bytes": len(content)}
    assert entries["ar.asset.link"].details == {"asset_id": created["id"], "order_id": order.pk, "horoscope_id": None}
    assert entries["ar.asset.link"].target_id == str(linked["id"])
