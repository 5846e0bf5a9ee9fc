"""The limiter's Redis: one client and one sliding-window counter per process, failing fast when Redis is down."""

from __future__ import annotations

from functools import cache

import redis
from django.conf import settings
from django.utils.crypto import salted_hmac
from limits import RateLimitItem, parse_many
from limits.errors import StorageError
from limits.storage import RedisStorage
from limits.strategies import SlidingWindowCounterRateLimiter

# What a request sees when the limiter cannot count.
OUTAGES = (redis.RedisError, StorageError, OSError)


def _prefix() -> str:
    return f"{settings.CACHES['default'].get('KEY_PREFIX', 'samia')}:sre"


@cache
def _counter(url: str, prefix: str, timeout: float) -> SlidingWindowCounterRateLimiter:
    options = {"socket_timeout": timeout, "socket_connect_timeout": timeout}
    return SlidingWindowCounterRateLimiter(RedisStorage(url, key_prefix=f"{prefix}:limits", **options))


@cache
def _client(url: str, timeout: float) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)


def counter() -> SlidingWindowCounterRateLimiter:
    """Return the sliding-window counter (limits) on SRE_LIMITER_REDIS_URL."""
    return _counter(settings.SRE_LIMITER_REDIS_URL, _prefix(), settings.SRE_LIMITER_TIMEOUT_SECONDS)


def client() -> redis.Redis:
    """Return a Redis client on SRE_LIMITER_REDIS_URL (quotas)."""
    return _client(settings.SRE_LIMITER_REDIS_URL, settings.SRE_LIMITER_TIMEOUT_SECONDS)


def key(*parts: str) -> str:
    return ":".join((_prefix(), *parts))


@cache
def items(text: str) -> tuple[RateLimitItem, ...]:
    """Parse "20/second;600/minute", shortest window first."""
    return tuple(sorted(parse_many(text), key=lambda item: item.get_expiry()))


def address_digest(address: str) -> str:
    """A keyed hash of a client address: addresses never reach Redis in clear."""
    return salted_hmac("sre.limiter.address", address, algorithm="sha256").hexdigest()[:24]
