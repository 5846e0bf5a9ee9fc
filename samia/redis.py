"""One Redis client per process, from REDIS_URL."""

from functools import cache

import redis
from django.conf import settings


@cache
def get_redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)


def key(name: str) -> str:
    """A Redis key in this deployment's space (CACHE_KEY_PREFIX, "samia" by default): `samia:<name>`."""
    return f"{settings.CACHES['default']['KEY_PREFIX']}:{name}"
