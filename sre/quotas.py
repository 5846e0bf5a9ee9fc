"""Daily quotas per caller and UTC day (SRE_QUOTAS): one Redis counter per quota, caller and date.

A request takes its cost before the view runs, atomically (a Lua script checks and adds), and
gives it back when the response is a refusal (`sre.middleware`), so only what was done counts.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from sre import limiter
from sre.errors import QuotaExceeded

# KEYS[1]: the counter. ARGV: cost, limit, expiry (epoch seconds). Answers {1, used} or {0, used}.
_TAKE = """
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
local cost, limit = tonumber(ARGV[1]), tonumber(ARGV[2])
if used + cost > limit then
  return {0, used}
end
used = redis.call('INCRBY', KEYS[1], cost)
redis.call('EXPIREAT', KEYS[1], tonumber(ARGV[3]))
return {1, used}
"""


@dataclass(frozen=True)
class Taken:
    """Units of a quota a request holds until its response says whether they were used."""

    key: str
    cost: int


def for_route(route: str) -> tuple[str, dict] | None:
    """Return (name, quota) of the quota counted on `route` ("METHOD url-name"), if any."""
    return next(((name, quota) for name, quota in settings.SRE_QUOTAS.items() if quota["route"] == route), None)


def cost_of(quota: dict, data) -> int:
    """One per request, or one per item of the field the quota counts (a translation batch's fields)."""
    field = quota.get("count")
    value = data.get(field) if field and hasattr(data, "get") else None
    return max(1, len(value)) if isinstance(value, list | dict) else 1


def next_reset(now: dt.datetime) -> dt.datetime:
    """The next UTC midnight: when every daily quota starts again."""
    today = now.astimezone(dt.UTC).date()
    return dt.datetime.combine(today + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)


def take(*, name: str, quota: dict, caller: str, cost: int, now: dt.datetime | None = None) -> Taken:
    """Take `cost` units of today's quota `name` for `caller`; raise QuotaExceeded when they do not fit."""
    now = now or timezone.now()
    resets_at = next_reset(now)
    counter_key = limiter.key("quota", name, caller, now.astimezone(dt.UTC).date().isoformat())
    script = limiter.client().register_script(_TAKE)
    # The key outlives its day by an hour, so a clock a little behind Redis's never reads a fresh one.
    taken, used = script(keys=[counter_key], args=[cost, quota["limit"], int(resets_at.timestamp()) + 3600])
    if not taken:
        wait = math.ceil((resets_at - now).total_seconds())
        raise QuotaExceeded(
            headers={"Retry-After": str(wait)},
            quota=name,
            limit=quota["limit"],
            used=int(used),
            resets_at=resets_at.isoformat().replace("+00:00", "Z"),
            retry_after=wait,
        )
    return Taken(counter_key, cost)


def give_back(taken: Taken) -> None:
    """Return the units of a request that was refused."""
    limiter.client().decrby(taken.key, taken.cost)
