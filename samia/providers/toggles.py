"""Provider switches (`ops_providerstate`), read through Redis and cached there at most 5 s.

The kernel does not know the table: `ops` registers the loader at AppConfig.ready. Without a
loader (or a row) a provider is enabled. A change deletes the cached value (`forget`), so other
processes see it on their next read; the 5 s expiry bounds staleness when that delete is lost.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable

from redis.exceptions import RedisError

from samia.redis import get_redis, key

CACHE_SECONDS = 5
CAMPAIGNS = "campaigns"  # not a provider: the global switch for campaign sends

logger = logging.getLogger(__name__)
_loader: Callable[[str], bool] | None = None


def register_loader(loader: Callable[[str], bool]) -> None:
    """Name the function that reads whether a provider is enabled from the database."""
    global _loader
    _loader = loader


def _load(name: str) -> bool:
    return True if _loader is None else _loader(name)


def enabled(name: str) -> bool:
    """Whether `name` (a provider or `campaigns`) is switched on, at most 5 s stale."""
    client = get_redis()
    try:
        cached = client.get(key(f"providers:enabled:{name}"))
    except RedisError:  # Redis down: ask the database each time rather than guess
        logger.warning("provider toggle cache unavailable")
        return _load(name)
    if cached is not None:
        return cached == b"1"
    value = _load(name)
    with contextlib.suppress(RedisError):
        client.set(key(f"providers:enabled:{name}"), b"1" if value else b"0", ex=CACHE_SECONDS)
    return value


def forget(name: str) -> None:
    """Drop the cached value of `name` (after its row changed)."""
    get_redis().delete(key(f"providers:enabled:{name}"))
