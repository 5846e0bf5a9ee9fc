"""Provider switches (`ops_providerstate`), read through Redis and cached there and in the process 5 s at most.

The kernel does not know the table: `ops` registers the loader at AppConfig.ready. Without a
loader (or a row) a provider is enabled. A change deletes the cached value (`forget`), so other
processes see it on their next read; the expiries bound staleness to 5 s when that delete is lost.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable

from redis.exceptions import RedisError

from samia.redis import get_redis, key

CACHE_SECONDS = 5  # a change reaches every process within this, whatever happens to its delete
CAMPAIGNS = "campaigns"  # not a provider: the global switch for campaign sends

logger = logging.getLogger(__name__)
_loader: Callable[[str], bool] | None = None


def register_loader(loader: Callable[[str], bool]) -> None:
    """Name the function that reads whether a provider is enabled from the database."""
    global _loader
    _loader = loader


def _load(name: str) -> bool | None:
    """The stored switch; None when it cannot be read (the caller treats that as on, uncached)."""
    if _loader is None:
        return True
    try:
        return _loader(name)
    except Exception:  # no database at hand: a switch fails open, as a provider without a row is on
        logger.warning("provider toggle unreadable", extra={"provider": name})
        return None


# Each process also keeps what it read for LOCAL_SECONDS, so a busy sender asks Redis about once a
# second per provider: a change is seen within LOCAL_SECONDS (deleted from Redis on change). Redis keeps
# a value REDIS_SECONDS, so a lost delete, or a read that fetched the old row just before the commit and
# cached it just after the delete, is seen within REDIS_SECONDS + LOCAL_SECONDS = CACHE_SECONDS.
LOCAL_SECONDS = 1.0
REDIS_SECONDS = int(CACHE_SECONDS - LOCAL_SECONDS)
_local: dict[str, tuple[float, bool]] = {}


def enabled(name: str) -> bool:
    """Whether `name` (a provider or `campaigns`) is switched on, at most ~5 s stale."""
    now = time.monotonic()
    seen = _local.get(name)
    if seen is not None and now - seen[0] < LOCAL_SECONDS:
        return seen[1]
    value = _read(name)
    _local[name] = (now, value)
    return value


def _read(name: str) -> bool:
    client = get_redis()
    try:
        cached = client.get(key(f"providers:enabled:{name}"))
    except RedisError:  # Redis down: ask the database each time rather than guess
        logger.warning("provider toggle cache unavailable")
        return _load(name) is not False
    if cached is not None:
        return cached == b"1"
    value = _load(name)
    if value is None:
        return True
    with contextlib.suppress(RedisError):
        client.set(key(f"providers:enabled:{name}"), b"1" if value else b"0", ex=REDIS_SECONDS)
    return value


def forget(name: str) -> None:
    """Drop the cached value of `name` (after its row changed)."""
    _local.pop(name, None)
    get_redis().delete(key(f"providers:enabled:{name}"))
