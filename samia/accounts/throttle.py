"""Failed-login limits: a slot taken atomically in Redis before the password is checked.

Each bucket is a moving window kept as a Redis sorted set of attempts. One Lua script takes a
slot in every bucket of an attempt or in none, so 30 parallel guesses against a limit of 5 get
exactly 5 password checks. A success gives its slot back, so only failures are counted.

Which buckets an attempt draws on (the policy, ACCOUNTS_README.md "Login limits"):
- from an address the account logged in from within LOGIN_KNOWN_ADDRESS_DAYS: its own bucket
  for (account, address), with the per-account limit; failures elsewhere never lock it;
- from any other address: the account's bucket and the address's bucket of its entry point
  (the API and the back office each have their own), with their limits.
Accounts and addresses reach Redis only as keyed hashes.
"""

from __future__ import annotations

import math
import time
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.utils.crypto import salted_hmac

from samia.redis import get_redis

# KEYS: the buckets. ARGV: the attempt's id, then each bucket's limit and window (seconds).
# Answers 0 when a slot was taken in every bucket, else the milliseconds until one frees up.
_TAKE = """
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local wait = 0
for i, key in ipairs(KEYS) do
  local limit, window = tonumber(ARGV[2 * i]), tonumber(ARGV[2 * i + 1]) * 1000
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  local excess = redis.call('ZCARD', key) - limit
  if excess >= 0 then
    local oldest = redis.call('ZRANGE', key, excess, excess, 'WITHSCORES')[2]
    wait = math.max(wait, oldest and (tonumber(oldest) + window - now) or window, 1)
  end
end
if wait > 0 then
  return wait
end
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, ARGV[1])
  redis.call('PEXPIRE', key, tonumber(ARGV[2 * i + 1]) * 1000)
end
return 0
"""
# Addresses remembered per account (the most recent ones).
KNOWN_ADDRESSES_KEPT = 10


@dataclass(frozen=True)
class Attempt:
    """A login attempt that holds a slot in `buckets` (or was refused for `retry_after` seconds)."""

    id: str
    account: str
    address: str
    buckets: tuple[str, ...]
    retry_after: int = 0


def _digest(kind: str, value: str) -> str:
    return salted_hmac(f"samia.accounts.throttle.{kind}", value, algorithm="sha256").hexdigest()[:32]


def _prefix() -> str:
    return f"{settings.CACHES['default'].get('KEY_PREFIX', 'samia')}:login-failures"


def _known_key(account: str) -> str:
    return f"{_prefix()}:known:{account}"


def login_attempt_take(*, email: str, ip: str, entry: str) -> Attempt:
    """Take a slot for one login attempt in the buckets it draws on, before the password is checked."""
    account, address = _digest("account", email.strip().lower()), _digest("address", ip)
    client = get_redis()
    last_success = client.zscore(_known_key(account), address)
    known_since = time.time() - settings.LOGIN_KNOWN_ADDRESS_DAYS * 86400
    per_account, per_ip = settings.LOGIN_RATE_LIMITS["account"], settings.LOGIN_RATE_LIMITS["ip"]
    if last_success is not None and last_success > known_since:
        buckets = {f"{_prefix()}:known-address:{account}:{address}": per_account}
    else:
        buckets = {f"{_prefix()}:account:{account}": per_account, f"{_prefix()}:ip:{entry}:{address}": per_ip}
    attempt_id = uuid.uuid4().hex
    limits = [number for limit, window in buckets.values() for number in (limit, window)]
    wait_ms = client.register_script(_TAKE)(keys=list(buckets), args=[attempt_id, *limits])
    return Attempt(attempt_id, account, address, tuple(buckets), retry_after=math.ceil(int(wait_ms) / 1000))


def login_success_record(attempt: Attempt) -> None:
    """Give the attempt's slots back, clear its account's failures and remember the address."""
    now, known = time.time(), _known_key(attempt.account)
    pipe = get_redis().pipeline()
    for bucket in attempt.buckets:
        if bucket.startswith(f"{_prefix()}:ip:"):
            pipe.zrem(bucket, attempt.id)  # the address keeps the failures of others
        else:
            pipe.delete(bucket)
    pipe.zadd(known, {attempt.address: now})
    pipe.zremrangebyscore(known, "-inf", now - settings.LOGIN_KNOWN_ADDRESS_DAYS * 86400)
    pipe.zremrangebyrank(known, 0, -KNOWN_ADDRESSES_KEPT - 1)
    pipe.expire(known, settings.LOGIN_KNOWN_ADDRESS_DAYS * 86400)
    pipe.execute()
