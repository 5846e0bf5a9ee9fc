"""The refusals of the limiter and the cost guards, as domain errors (mapped once in samia/errors.py)."""

from samia.exceptions import DomainError, Unavailable


class _Refusal(DomainError):
    """A 429 with the headers that tell the caller when to come back (sre.middleware sets them)."""

    status = 429

    def __init__(self, message: str | None = None, *, headers: dict[str, str], **details):
        super().__init__(message, **details)
        self.headers = headers


class RateLimited(_Refusal):
    """Too many requests on this route in its window; `details.retry_after` says how long to wait."""

    code = "rate_limited"
    default_message = "Too many requests; retry later."


class QuotaExceeded(_Refusal):
    """The caller's daily quota is spent; `details.resets_at` says when (next UTC midnight)."""

    code = "quota_exceeded"
    default_message = "The daily quota is spent."


class LimiterUnavailable(Unavailable):
    """The limiter cannot count (its Redis is down) and the route is a costly write: refused, not let through."""

    code = "limiter_unavailable"
    default_message = "The rate limiter is unavailable; retry later."
