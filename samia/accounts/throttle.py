"""Failed-login limits per account and per IP, as atomic Redis counters over a fixed window."""

import hashlib

from django.conf import settings

from samia.redis import get_redis


def _keys(email: str, ip: str) -> dict[str, str]:
    prefix = f"{settings.CACHES['default'].get('KEY_PREFIX', 'samia')}:login-failures"
    account = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    return {"account": f"{prefix}:account:{account}", "ip": f"{prefix}:ip:{ip}"}


def login_retry_after(*, email: str, ip: str) -> int:
    """Return the seconds until this account and IP may try again (0 when they may now)."""
    keys = _keys(email, ip)
    client = get_redis()
    pipe = client.pipeline()
    for key in keys.values():
        pipe.get(key)
        pipe.ttl(key)
    values = pipe.execute()
    wait = 0
    for index, scope in enumerate(keys):
        count, ttl = values[2 * index], values[2 * index + 1]
        limit, window = settings.LOGIN_RATE_LIMITS[scope]
        if count is not None and int(count) >= limit:
            wait = max(wait, ttl if ttl and ttl > 0 else window)
    return wait


def login_failure_record(*, email: str, ip: str) -> None:
    """Count one failed login against the account and the IP."""
    pipe = get_redis().pipeline()
    for scope, key in _keys(email, ip).items():
        pipe.incr(key)
        pipe.expire(key, settings.LOGIN_RATE_LIMITS[scope][1], nx=True)
    pipe.execute()


def login_success_record(*, email: str) -> None:
    """Clear the account's failure count after a successful login."""
    get_redis().delete(_keys(email, "-")["account"])
