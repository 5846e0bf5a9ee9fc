"""AR in the back office: upload measured from the bytes, a preview through a signed URL, link, remove."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from ar.models import ArAsset, ArLink
from samia.audit.models import AuditEntry
from samia.events.models import EventRaw
from tests.ar import media
from tests.factories import PASSWORD, OrderFactory

pytestmark = pytest.mark.django_db
ASSETS = "/backoffice/ar/arasset/"


def _logged_in(user) -> Client:
    client = Client()
    assert client.post("/backoffice/login/", {"username": user.email, "password": PASSWORD}).status_code == 302
    return client


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_an_admin_uploads_previews_links_and_removes_an_asset(
    personas, private_files, django_capture_on_commit_callbacks
):
    client = _logged_in(personas["admin"])
    content = media.video("webm", "libvpx-vp9", frames=12)

    # upload: the lineage comes from the bytes, whatever the file is called
    added = client.post(f"{ASSETS}add/", {"kind": "effect", "upload": SimpleUploadedFile("x.png", content)})
    assert added.status_code == 302, added.content[:2000]
    asset = ArAsset.objects.get()
    assert (asset.content_type, asset.frame_count, asset.duration_ms) == ("video/webm", 12, 500)

    # preview: a video through a signed URL (counted as one), which the browser can fetch
    page = client.get(f"{ASSETS}{asset.pk}/change/")
    html = page.content.decode()
    assert page.status_code == 200 and "<video src=" in html
    url = html.split('<video src="', 1)[1].split('"', 1)[0].split("localhost:8000", 1)[1]
    assert b"".join(client.get(url).streaming_content) == content
    assert EventRaw.objects.filter(name="ar.url_issued", subject_id=asset.pk).count() == 1

    # link to an order through the link page
    order = OrderFactory()
    linked = client.post("/backoffice/ar/arlink/add/", {"asset": asset.pk, "order": order.pk})
    assert linked.status_code == 302
    assert ArLink.objects.get().order_id == order.pk
    both = client.post("/backoffice/ar/arlink/add/", {"asset": asset.pk})
    assert both.status_code == 200 and "Choose exactly one" in both.content.decode()

    # remove: the action deletes the file after commit and keeps the row
    with django_capture_on_commit_callbacks(execute=True):
        removed = client.post(ASSETS, {"action": "remove_assets", "_selected_action": [asset.pk]}, follow=True)
    assert _messages(removed) == ["1 done."]
    asset.refresh_from_db()
    assert asset.removed_at is not None and not (private_files / asset.storage_key).exists()
    again = client.post(ASSETS, {"action": "remove_assets", "_selected_action": [asset.pk]}, follow=True)
    assert _messages(again) == [f"0 done, 1 refused. #{asset.pk}: This AR asset is already removed."]
    assert "Removed: the file is deleted" in client.get(f"{ASSETS}{asset.pk}/change/").content.decode()
    assert sorted(AuditEntry.objects.filter(family="ar").values_list("action", flat=True)) == [
        "ar.asset.create",
        "ar.asset.link",
        "ar.asset.remove",
    ]


def test_a_refused_upload_says_why_and_stores_nothing(personas, private_files):
    client = _logged_in(personas["admin"])

    response = client.post(
        f"{ASSETS}add/", {"kind": "model_3d", "upload": SimpleUploadedFile("m.glb", media.still("JPEG"))}, follow=True
    )

    assert response.status_code == 200
    assert any("not a model_3d" in message for message in _messages(response))
    assert not ArAsset.objects.exists() and not any(private_files.rglob("*"))


def test_an_image_preview_and_no_preview_for_a_model(personas):
    client = _logged_in(personas["superadmin"])
    client.post(f"{ASSETS}add/", {"kind": "animation", "upload": SimpleUploadedFile("a", media.gif())})
    client.post(f"{ASSETS}add/", {"kind": "model_3d", "upload": SimpleUploadedFile("m", media.glb())})
    gif, glb = ArAsset.objects.order_by("id")

    assert "<img src=" in client.get(f"{ASSETS}{gif.pk}/change/").content.decode()
    assert "No preview for a 3D model." in client.get(f"{ASSETS}{glb.pk}/change/").content.decode()


@pytest.mark.parametrize("role", ["monitor"])
def test_it_does_not_offer_ar_to_monitors(personas, role):
    client = _logged_in(personas[role])

    assert client.get(ASSETS).status_code == 403
    assert client.get("/backoffice/ar/arlink/").status_code == 403
