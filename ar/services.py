"""AR writes: store an asset from its bytes, link it to an order or a horoscope, remove it, hand out URLs.

Each service validates, acts, writes the audit entry (ids, codes and hashes only) and, for a URL,
the `ar.url_issued` event, in the caller's transaction.
"""

from __future__ import annotations

import hashlib
import uuid

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from ar import lineage, policies, selectors
from ar.models import ArAsset, ArLink
from samia import audit, degraded, storage
from samia.events.services import emit
from samia.exceptions import Conflict
from samia.marketplace import selectors as marketplace_selectors
from samia.marketplace.media import sniff
from samia.rls.registry import Identity

HASH_CHUNK = 1024 * 1024


def _sha256(file) -> str:
    digest = hashlib.sha256()
    file.seek(0)
    for chunk in iter(lambda: file.read(HASH_CHUNK), b""):
        digest.update(chunk)
    file.seek(0)
    return digest.hexdigest()


def _existing(sha256: str) -> ArAsset | None:
    existing = ArAsset.objects.filter(sha256=sha256).first()
    if existing is not None and existing.removed_at is not None:
        raise Conflict("These bytes belong to a removed AR asset.", asset_id=existing.pk, status="removed")
    return existing


@transaction.atomic
def asset_create(*, identity: Identity, kind: str, file, sha256: str = "") -> tuple[ArAsset, bool]:
    """Store `file` privately as an AR asset of `kind`, measured from its bytes; return it and whether it is new.

    `sha256` is the digest computed while the upload streamed in, when there is one. The same bytes
    again return the asset already stored.
    """
    degraded.check("ar_upload")  # paused while the storage or egress budget is spent (sre)
    lineage.size_check(file.size)
    sha256 = sha256 or _sha256(file)
    existing = _existing(sha256)
    if existing is not None:
        return existing, False
    file.seek(0)
    measured = sniff(file)
    lineage.lineage_check(kind=kind, measured=measured)
    private = storage.private_storage()
    file.seek(0)
    key = private.save(f"{selectors.KEY_PREFIX}{uuid.uuid4().hex}", file)
    try:
        with transaction.atomic():
            asset = ArAsset.objects.create(
                kind=kind,
                storage_key=key,
                content_type=measured.content_type,
                sha256=sha256,
                bytes=file.size,
                duration_ms=measured.duration_ms,
                frame_count=measured.frame_count,
                width=measured.width,
                height=measured.height,
                created_by_id=identity.user_id,
            )
    except IntegrityError:
        # The same bytes stored by a concurrent upload that committed first.
        private.delete(key)
        existing = _existing(sha256)
        if existing is None:
            raise
        return existing, False
    audit.record(
        action="ar.asset.create",
        actor=identity,
        target=asset,
        details={"kind": kind, "sha256": sha256, "bytes": asset.bytes},
    )
    return asset, True


@transaction.atomic
def asset_link(
    *, identity: Identity, asset_id: int, order_id: int | None = None, horoscope_id: int | None = None
) -> tuple[ArLink, bool]:
    """Link an asset to one order or one horoscope; return the link and whether it is new (idempotent)."""
    if (order_id is None) == (horoscope_id is None):
        raise ValidationError({"order_id": ["Give exactly one of order_id and horoscope_id."]})
    asset = selectors.asset_get(identity=identity, asset_id=asset_id)
    if asset.removed_at is not None:
        raise Conflict("This AR asset was removed; it cannot be linked.", asset_id=asset.pk, status="removed")
    if order_id is not None:
        target = {"order": marketplace_selectors.order_get(identity=identity, order_id=order_id)}
    else:
        target = {"horoscope": marketplace_selectors.horoscope_get(identity=identity, horoscope_id=horoscope_id)}
    links = policies.LINKS.scope(ArLink.objects.all(), identity)
    link = links.filter(asset=asset, **target).first()
    if link is not None:
        return link, False
    try:
        with transaction.atomic():
            link = ArLink.objects.create(asset=asset, created_by_id=identity.user_id, **target)
    except IntegrityError:
        # Linked by a concurrent request that committed first.
        return links.get(asset=asset, **target), False
    details = {"asset_id": asset.pk, "order_id": order_id, "horoscope_id": horoscope_id}
    audit.record(action="ar.asset.link", actor=identity, target=link, details=details)
    return link, True


@transaction.atomic
def asset_remove(*, identity: Identity, asset_id: int) -> ArAsset:
    """Remove an asset: stamp removed_at, delete the stored object once this commits; the lineage row stays."""
    asset = selectors.asset_get(identity=identity, asset_id=asset_id, operation="update", lock=True)
    if asset.removed_at is not None:
        raise Conflict("This AR asset is already removed.", asset_id=asset.pk, status="removed")
    asset.removed_at = timezone.now()
    asset.save(update_fields=["removed_at"])
    key = asset.storage_key
    # Robust: a storage that fails to delete must not turn a committed removal into an error; the
    # download refuses the surviving object anyway (samia.ar_key_removed).
    transaction.on_commit(lambda: storage.private_storage().delete(key), robust=True)
    audit.record(
        action="ar.asset.remove", actor=identity, target=asset, details={"sha256": asset.sha256, "bytes": asset.bytes}
    )
    return asset


def asset_url(*, identity: Identity, asset_id: int, ttl_seconds: int | None = None) -> storage.SignedUrl:
    """Return a signed URL to an asset `identity` may see, and record the bytes it may carry (ar.url_issued)."""
    asset = selectors.asset_get(identity=identity, asset_id=asset_id)
    if asset.removed_at is not None:
        raise storage.Gone("This AR asset was removed.", asset_id=asset.pk)
    signed = storage.signed_url(
        key=asset.storage_key, ttl_seconds=ttl_seconds, user_id=identity.user_id, content_type=asset.content_type
    )
    emit("ar.url_issued", 1, actor=identity, subject=asset, properties={"asset_id": asset.pk, "bytes": asset.bytes})
    return signed
