"""What an AR asset may be: the types each kind accepts, checked against what the bytes measure."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError

from ar.models import ArAsset
from samia.exceptions import DomainError
from samia.marketplace.media import Measured

Kind = ArAsset.Kind
IMAGES = ("image/png", "image/jpeg", "image/webp", "image/gif")
ANIMATED_IMAGES = ("image/png", "image/webp", "image/gif")
VIDEOS = ("video/mp4", "video/webm")
GLB = "model/gltf-binary"

ALLOWED_TYPES: dict[str, tuple[str, ...]] = {
    Kind.OVERLAY: IMAGES,  # a picture laid over the camera, still or animated
    Kind.EFFECT: VIDEOS,  # a rendered clip
    Kind.ANIMATION: ANIMATED_IMAGES + VIDEOS,  # moving, by definition: more than one frame
    Kind.MODEL_3D: (GLB,),
}
AR_TYPES = frozenset(t for types in ALLOWED_TYPES.values() for t in types)


class UnsupportedType(DomainError):
    code = "unsupported_type"
    status = 415
    default_message = "This type of file is not accepted for AR assets."


class TooLarge(DomainError):
    code = "too_large"
    status = 413
    default_message = "The file is larger than AR assets may be."


def size_check(size: int) -> None:
    """Refuse a file larger than AR_MAX_UPLOAD_BYTES (413)."""
    if size > settings.AR_MAX_UPLOAD_BYTES:
        raise TooLarge(max_bytes=settings.AR_MAX_UPLOAD_BYTES)


def lineage_check(*, kind: str, measured: Measured) -> None:
    """Refuse bytes of an unknown type (415), damaged (400), or not of `kind` (400)."""
    if measured.content_type not in AR_TYPES:
        raise UnsupportedType(content_type=measured.content_type)
    if measured.problem:
        raise ValidationError({"file": [f"The file cannot be read whole: {measured.problem}."]})
    if measured.content_type not in ALLOWED_TYPES[kind]:
        raise ValidationError({"file": [f"This file's bytes are not a {kind} ({', '.join(ALLOWED_TYPES[kind])})."]})
    if kind == Kind.ANIMATION and (measured.frame_count or 0) < 2:
        raise ValidationError({"file": ["An animation has more than one frame; this file has one."]})
