import hashlib
import io
import wave
from decimal import Decimal

import pytest
from django.core.files.storage import default_storage

from samia.marketplace.media import sniff
from samia.marketplace.services import media_asset_create


def _wav(seconds: float, rate: int = 8000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(b"\x00\x00" * int(rate * seconds))
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("content", "content_type", "kind", "duration"),
    [
        (_wav(2.5), "audio/wav", "audio", Decimal("2.5")),
        (b"%PDF-1.7 rest of file", "application/pdf", "pdf", None),
        (b"\x89PNG\r\n\x1a\n....", "image/png", "image", None),
        (b"just some text", "application/octet-stream", "other", None),
    ],
)
def test_it_measures_content_from_the_bytes(content, content_type, kind, duration):
    measured = sniff(content)

    assert (measured.content_type.split(";")[0], measured.kind, measured.duration_seconds) == (
        content_type if kind != "audio" else measured.content_type,
        kind,
        duration,
    )
    if kind == "audio":
        assert measured.content_type.startswith("audio/")


@pytest.mark.django_db
def test_it_stores_media_privately_with_what_the_server_measured(make_user):
    content = _wav(1.25)
    owner = make_user()

    asset = media_asset_create(owner_id=owner.pk, content=content)

    assert (asset.kind, asset.bytes, asset.sha256, asset.duration_seconds) == (
        "audio",
        len(content),
        hashlib.sha256(content).hexdigest(),
        Decimal("1.25"),
    )
    assert not asset.storage_key.startswith("http")
    with default_storage.open(asset.storage_key) as stored:
        assert stored.read() == content
