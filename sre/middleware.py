"""Request middleware of the SRE app: rate-limit headers and quota give-back; route metrics."""

from __future__ import annotations

import logging
import time

from sre import limiter, quotas
from sre.metrics import REQUEST_LATENCY

logger = logging.getLogger(__name__)


class RateLimitMiddleware:
    """Add the headers the route limiter left on the request; give back the quota of a refused request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        for name, value in (getattr(request, "sre_rate_headers", None) or {}).items():
            response[name] = value
        taken = getattr(request, "sre_quota_taken", None)
        if taken is not None and response.status_code >= 400:
            try:
                quotas.give_back(taken)
            except limiter.OUTAGES as error:
                logger.warning("quota not given back", extra={"error": type(error).__name__})
        return response


class RequestMetricsMiddleware:
    """Observe each request's latency per route pattern (never the path with its ids), method and status class."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        route = f"/{match.route}" if match and match.route else "unmatched"
        REQUEST_LATENCY.labels(route, request.method, f"{response.status_code // 100}xx").observe(
            time.perf_counter() - started
        )
        return response
