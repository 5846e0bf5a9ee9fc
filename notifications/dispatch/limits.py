"""Provider rate limits shared by every dispatcher worker: token buckets in Redis, and pauses.

NOTIFICATIONS_RATE_LIMITS names buckets (`fcm`, `apns`, `twilio`, `twilio:sms`, `twilio:whatsapp`,
`twilio:<Messaging Service SID>`, `twilio:<WhatsApp sender>`) with a rate (`N/s` or `N/m`). Each
request a send makes takes one token from every bucket that applies to it. A bucket is a GCRA
(generic cell rate algorithm: one "theoretical arrival time" per bucket, the token bucket's twin)
kept in Redis and advanced by one Lua script on Redis' own clock, so every worker on every host
shares it and no two workers can take the same token. Its burst is a few tokens, so no second
carries more than the rate and a few.

A provider that answers with Retry-After (429, or 503 with a Retry-After) pauses its provider
(`fcm`, `apns` or `twilio`) for that long in Redis: every worker's next take waits it out.

`take` grants a prefix of the sends asked for (each with its token counts) in one round trip, or
says how long to wait for the next. Redis down: no send is granted (the dispatcher hands the sends
back and tries on its next run) rather than sending unmetered.
"""

from __future__ import annotations

import math
from functools import cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from samia.redis import get_redis, key

# What a bucket may hold: this many seconds of its rate, at least two tokens. Sends leave at the
# rate, never in bursts larger than this.
BURST_SECONDS = 0.02
PROVIDERS = ("fcm", "apns", "twilio")  # what a Retry-After pauses

# KEYS: n bucket keys, then one pause key per provider involved. ARGV: n, then per bucket its
# interval and its burst tolerance (µs), then the number of sends and their token counts (one per
# bucket, send by send).
_TAKE = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000000 + tonumber(now_parts[2])
local n = tonumber(ARGV[1])
local paused = 0
for i = n + 1, #KEYS do
    local left = redis.call('PTTL', KEYS[i])
    if left > paused then paused = left end
end
if paused > 0 then return {0, paused * 1000} end
local tat, interval, tolerance = {}, {}, {}
for i = 1, n do
    tat[i] = math.max(tonumber(redis.call('GET', KEYS[i]) or '0'), now)
    interval[i] = tonumber(ARGV[2 * i])
    tolerance[i] = tonumber(ARGV[2 * i + 1])
end
local sends = tonumber(ARGV[2 + 2 * n])
local base = 2 + 2 * n
local granted, wait = 0, 0
for j = 1, sends do
    local fits, next_tat = true, {}
    for i = 1, n do
        local count = tonumber(ARGV[base + (j - 1) * n + i])
        next_tat[i] = tat[i] + count * interval[i]
        local over = next_tat[i] - now - tolerance[i]
        if count > 0 and over > 0 then
            fits = false
            if over > wait then wait = over end
        end
    end
    if not fits then break end
    for i = 1, n do tat[i] = next_tat[i] end
    granted = j
end
for i = 1, n do redis.call('SET', KEYS[i], string.format('%d', tat[i]), 'PX', 60000) end
return {granted, math.ceil(wait)}
"""


def rate(text: str) -> float:
    """Requests per second of a configured rate such as `100/s` or `600000/m`."""
    count, _, unit = text.strip().partition("/")
    seconds = {"s": 1, "m": 60}.get(unit.strip() or "s")
    try:
        value = float(count) / seconds if seconds else -1.0
    except ValueError:
        value = -1.0
    if value <= 0:
        raise ImproperlyConfigured(f"NOTIFICATIONS_RATE_LIMITS: {text!r} is not N/s or N/m")
    return value


@cache
def _script():
    return get_redis().register_script(_TAKE)


def buckets(channel: str, platform: str = "") -> tuple[str, ...]:
    """The configured buckets one request takes a token from (push: per device platform)."""
    if channel == "push":
        names = (platform,)
    else:
        names = ("twilio", f"twilio:{channel}", f"twilio:{settings.TWILIO_MESSAGING_SERVICE_SID}")
        if channel == "whatsapp" and settings.TWILIO_WHATSAPP_FROM:
            names += (f"twilio:{settings.TWILIO_WHATSAPP_FROM.removeprefix('whatsapp:')}",)
    return tuple(name for name in names if name in settings.NOTIFICATIONS_RATE_LIMITS)


def ask_size(need: dict[str, int]) -> int | None:
    """How many sends like this one to ask tokens for at once: about what the strictest bucket can
    grant (its burst), a few more; None when no bucket meters it. Asking for hundreds when four may
    go makes every round pack and check them all for nothing (SMS at 200/s)."""
    if not need:
        return None
    slowest = min(rate(settings.NOTIFICATIONS_RATE_LIMITS[name]) for name in need)
    return math.ceil(max(2 / slowest, BURST_SECONDS) * slowest) + 4


def provider_of(channel: str, platform: str = "") -> str:
    return platform if channel == "push" else "twilio"


def take(needs: list[dict[str, int]], providers: set[str]) -> tuple[int, float]:
    """Take tokens for the longest prefix of `needs` (per send: bucket -> tokens) that fits now.

    Returns how many sends may go and, when not all, the seconds until the next may. `providers`
    are those the sends use: a pause of any of them stops all.
    """
    names = sorted({name for need in needs for name in need})
    parameters = []
    for name in names:
        per_second = rate(settings.NOTIFICATIONS_RATE_LIMITS[name])
        interval = 1_000_000 / per_second
        parameters += [max(1, round(interval)), round(max(2 * interval, BURST_SECONDS * 1_000_000))]
    keys = [key(f"notifications:rate:{name}") for name in names]
    keys += [key(f"notifications:pause:{provider}") for provider in sorted(providers)]
    counts = [need.get(name, 0) for need in needs for name in names]
    granted, wait_us = _script()(keys=keys, args=[len(names), *parameters, len(needs), *counts])
    return int(granted), int(wait_us) / 1_000_000


def pause(provider: str, seconds: float) -> None:
    """Stop every worker sending to `provider` for `seconds` (never shortens a longer pause)."""
    milliseconds = max(1, math.ceil(seconds * 1000))
    name = key(f"notifications:pause:{provider}")
    client = get_redis()
    if (client.pttl(name) or 0) < milliseconds:
        client.set(name, b"1", px=milliseconds)


def paused_for(provider: str) -> float:
    """Seconds `provider` stays paused (0 when it is not)."""
    return max(get_redis().pttl(key(f"notifications:pause:{provider}")) or 0, 0) / 1000


def forget() -> None:
    """Drop every bucket and pause of this key space (tests)."""
    client = get_redis()
    for name in client.scan_iter(match=key("notifications:rate:*")):
        client.delete(name)
    for name in client.scan_iter(match=key("notifications:pause:*")):
        client.delete(name)
