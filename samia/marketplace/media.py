"""What the server measures of uploaded bytes: content type and, for audio, duration."""

from __future__ import annotations

import io
from dataclasses import dataclass
from decimal import Decimal

import mutagen

_SIGNATURES = [
    (b"%PDF-", "application/pdf", "pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "image"),
    (b"\xff\xd8\xff", "image/jpeg", "image"),
    (b"GIF8", "image/gif", "image"),
]


@dataclass(frozen=True)
class Measured:
    content_type: str
    kind: str
    duration_seconds: Decimal | None


def sniff(content: bytes) -> Measured:
    """Identify `content` from its bytes alone; never from what the client claims."""
    for magic, content_type, kind in _SIGNATURES:
        if content.startswith(magic):
            return Measured(content_type, kind, None)
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return Measured("image/webp", "image", None)
    try:
        audio = mutagen.File(io.BytesIO(content))
    except Exception:  # mutagen raises many error types on bytes it cannot parse
        audio = None
    if audio is not None and getattr(audio.info, "length", None):
        content_type = audio.mime[0] if getattr(audio, "mime", None) else "audio/octet-stream"
        return Measured(content_type, "audio", Decimal(str(round(audio.info.length, 3))))
    return Measured("application/octet-stream", "other", None)
