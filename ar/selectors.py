"""Reads of AR assets and links, scoped by the same declarations that Postgres enforces."""

from __future__ import annotations

from django.db import connection
from django.db.models import QuerySet

from ar import policies
from ar.models import ArAsset
from samia.marketplace import selectors as marketplace_selectors
from samia.rls.registry import Identity


def asset_list(
    *,
    identity: Identity,
    kind: str | None = None,
    order_id: int | None = None,
    horoscope_id: int | None = None,
) -> QuerySet[ArAsset]:
    """Return the AR assets `identity` may see, optionally of one kind or linked to one order or horoscope."""
    assets = policies.ASSETS.scope(ArAsset.objects.all(), identity)
    if kind:
        assets = assets.filter(kind=kind)
    if order_id is not None:
        assets = assets.filter(links__order_id=order_id)
    if horoscope_id is not None:
        assets = assets.filter(links__horoscope_id=horoscope_id)
    return assets.order_by("-id")


def reader_asset_list(*, identity: Identity, order_id: int | None = None) -> QuerySet[ArAsset]:
    """Return the assets `identity` may see on `order_id` (404 for an order they may not see), or all of them."""
    if order_id is not None:
        marketplace_selectors.order_get(identity=identity, order_id=order_id)
    return asset_list(identity=identity, order_id=order_id)


def asset_get(*, identity: Identity, asset_id: int, operation: str = "select", lock: bool = False) -> ArAsset:
    """Return one asset `identity` may act on, or raise ArAsset.DoesNotExist("No such AR asset.")."""
    assets = ArAsset.objects.select_for_update() if lock else ArAsset.objects.all()
    return policies.ASSETS.get(assets, identity, asset_id, operation=operation, missing="No such AR asset.")


def key_removed(key: str) -> bool:
    """Tell whether `key` is the stored object of a removed asset, whoever asks (samia.ar_key_removed)."""
    if not key.startswith(KEY_PREFIX):
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT samia.ar_key_removed(%s)", [key])
        return bool(cursor.fetchone()[0])


KEY_PREFIX = "ar/"
