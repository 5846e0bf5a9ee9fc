"""Route limits: burst and sustained sliding-window counters in Redis, per caller and route, then daily quotas.

DRF runs `RouteRateThrottle` (DEFAULT_THROTTLE_CLASSES) after authentication. A caller is the user,
or the client address when anonymous (the rightmost untrusted X-Forwarded-For hop behind
SRE_TRUSTED_PROXIES). A refusal raises a domain error, so the 429 has the one error shape;
`sre.middleware` adds the RateLimit-* and Retry-After headers the throttle leaves on the request.
The class needs no DRF base: DRF only calls `allow_request` (and `wait` after a False, never given).
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

from django.conf import settings
from limits import RateLimitItem

from samia.accounts.backends import client_ip
from sre import limiter, quotas
from sre.errors import LimiterUnavailable, QuotaExceeded, RateLimited
from sre.metrics import LIMITER_DECISIONS, LIMITER_UNAVAILABLE

logger = logging.getLogger(__name__)

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


@dataclass(frozen=True)
class Rule:
    """The limits one request draws on: `scope` names the counters, `fail_closed` a costly write."""

    scope: str
    items: tuple[RateLimitItem, ...]
    fail_closed: bool


def rule_for(*, method: str, route: str, authenticated: bool) -> Rule:
    """Return the limits of `method` on the route named `route` for a user or an anonymous address."""
    costly = settings.SRE_RATE_LIMITS.get(f"{method} {route}")
    limits = costly or settings.SRE_RATE_LIMITS["default"]
    text = limits["user" if authenticated else "ip"]
    scope = f"{method} {route}" if costly else route
    return Rule(scope, limiter.items(text), bool(costly) and method not in SAFE_METHODS)


def caller_of(request) -> str:
    """The user, or a keyed hash of the client address for anonymous callers."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return f"ip:{limiter.address_digest(client_ip(request, settings.SRE_TRUSTED_PROXIES))}"


def count(rule: Rule, caller: str) -> dict[str, str]:
    """Count one request against every limit of `rule`; return the RateLimit-* headers or raise RateLimited.

    Shortest window first: a request refused by the burst limit never counts toward the sustained one,
    so the sustained count is exact (each hit is one atomic Lua script).
    """
    counter = limiter.counter()
    for item in rule.items:
        if not counter.hit(item, rule.scope, caller):
            reset, _ = counter.get_window_stats(item, rule.scope, caller)
            wait = max(1, math.ceil(reset - time.time()))
            headers = _headers(item, 0, wait)
            raise RateLimited(headers={**headers, "Retry-After": str(wait)}, retry_after=wait, limit=str(item))
    item = rule.items[-1]
    reset, remaining = counter.get_window_stats(item, rule.scope, caller)
    return _headers(item, remaining, max(0, math.ceil(reset - time.time())))


def _headers(item: RateLimitItem, remaining: int, reset: int) -> dict[str, str]:
    return {"RateLimit-Limit": str(item.amount), "RateLimit-Remaining": str(remaining), "RateLimit-Reset": str(reset)}


class RouteRateThrottle:
    """Admit a request within its route's burst and sustained limits and its daily quota."""

    def allow_request(self, request, view) -> bool:
        match = request.resolver_match
        route = (match.url_name or match.route) if match else request.path
        if route in settings.SRE_RATE_EXEMPT:
            return True
        rule = rule_for(method=request.method, route=route, authenticated=request.user.is_authenticated)
        caller = caller_of(request)
        try:
            try:
                request._request.sre_rate_headers = count(rule, caller)
                quota = quotas.for_route(f"{request.method} {route}")
                if quota:
                    name, settings_of = quota
                    cost = quotas.cost_of(settings_of, request.data)
                    request._request.sre_quota_taken = quotas.take(
                        name=name, quota=settings_of, caller=caller, cost=cost
                    )
            except (RateLimited, QuotaExceeded) as refusal:
                LIMITER_DECISIONS.labels(rule.scope, refusal.code).inc()
                request._request.sre_rate_headers = refusal.headers
                raise
        except limiter.OUTAGES as error:
            # Counted and logged without the caller; a costly write is refused rather than let through unbounded.
            outcome = "refused" if rule.fail_closed else "allowed"
            LIMITER_UNAVAILABLE.labels(outcome).inc()
            logger.warning(
                "route limiter unavailable",
                extra={"scope": rule.scope, "outcome": outcome, "error": type(error).__name__},
            )
            if rule.fail_closed:
                raise LimiterUnavailable() from None
            return True
        LIMITER_DECISIONS.labels(rule.scope, "allowed").inc()
        return True

    def wait(self) -> None:
        return None
