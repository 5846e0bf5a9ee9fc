import pytest

from ar.models import ArAsset, ArLink
from samia.audit.models import AuditEntry
from samia.events.models import EventRaw
from tests.conftest import api_as
from tests.factories import HoroscopeFactory, OrderFactory


@pytest.fixture(autouse=True)
def private_files(settings, tmp_path):
    """The private storage in a directory of this test's own (the suite's default storage is in memory)."""
    root = tmp_path / "private"
    settings.STORAGES = {
        **settings.STORAGES,
        "private": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(root)}},
    }
    return root


def upload(user, content: bytes, kind: str, name: str = "asset.bin"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return api_as(user).post(
        "/admin/ar/assets", {"kind": kind, "file": SimpleUploadedFile(name, content)}, format="multipart"
    )


def link(user, **body):
    return api_as(user).post("/admin/ar/assets/link", body, format="json")


def state():
    """Everything a refused request must leave as it was."""
    return (
        list(ArAsset.objects.order_by("id").values()),
        list(ArLink.objects.order_by("id").values()),
        AuditEntry.objects.filter(family="ar").count(),
        EventRaw.objects.filter(name__startswith="ar.").count(),
    )


@pytest.fixture
def ar_world(personas, private_files):
    """An admin's assets linked to the reader's assigned order, the other reader's order and a horoscope."""
    from django.core.files.base import ContentFile

    from ar import services
    from samia.rls.registry import Identity
    from tests.ar import media

    p = personas
    admin = Identity(p["admin"].pk, "admin")
    orders = {
        "mine": OrderFactory(client=p["client"], reader=p["reader"], status="in_progress"),
        "theirs": OrderFactory(client=p["other_client"], reader=p["other_reader"], status="in_progress"),
    }
    horoscope = HoroscopeFactory()

    def stored(content, kind):
        return services.asset_create(identity=admin, kind=kind, file=ContentFile(content, name="x"))[0]

    assets = {
        "mine": stored(media.gif(), "animation"),
        "theirs": stored(media.still("PNG"), "overlay"),
        "horoscope": stored(media.glb(), "model_3d"),
        "unlinked": stored(media.still("JPEG"), "overlay"),
    }
    services.asset_link(identity=admin, asset_id=assets["mine"].pk, order_id=orders["mine"].pk)
    services.asset_link(identity=admin, asset_id=assets["theirs"].pk, order_id=orders["theirs"].pk)
    services.asset_link(identity=admin, asset_id=assets["horoscope"].pk, horoscope_id=horoscope.pk)
    return {"personas": p, "orders": orders, "horoscope": horoscope, "assets": assets}
