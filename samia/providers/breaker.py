"""One circuit breaker per provider (pybreaker), its state in Redis so every process shares it.

Only outages count: a RETRYABLE or UNKNOWN result (timeouts map onto these) or an exception the
adapter let through. A bad token or a refused payload is the request's fault, not the provider's.
PROVIDER_BREAKER_FAIL_MAX such failures in a row open the circuit; calls then raise
ProviderUnavailable(name, "circuit_open"), so the dispatcher defers as for an unconfigured provider.
After PROVIDER_BREAKER_RESET_SECONDS one call goes through (half-open): success closes it,
failure opens it again. No retries here: the dispatcher retries with full jitter.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import threading
import time

import pybreaker
from django.conf import settings

from samia.providers.base import Outcome, ProviderUnavailable, Result
from samia.redis import get_redis, key

COUNTED = frozenset({Outcome.RETRYABLE, Outcome.UNKNOWN})
# After a success left the circuit closed, this process skips Redis for this long: another process's
# failures open the circuit for it at most this much later (the first call after reads it again).
LOCAL_SECONDS = 1.0

logger = logging.getLogger(__name__)


class _Counted(Exception):
    """Stands for a counted result inside pybreaker, which counts exceptions."""


class _Audit(pybreaker.CircuitBreakerListener):
    def state_change(self, cb, old_state, new_state) -> None:
        """Audit each change this process makes or notices, as system:ops (on the owner's connection)."""
        from samia.audit import services as audit
        from samia.secrets import store

        old = old_state.name if old_state else ""
        logger.warning("provider circuit", extra={"provider": cb.name, "from": old, "to": new_state.name})
        try:
            with store.owner_transaction() as cursor:
                details = {"provider": cb.name, "from": old.replace("-", "_"), "to": new_state.name.replace("-", "_")}
                audit.record(action="ops.provider.circuit", actor="system:ops", details=details, cursor=cursor)
        except Exception:  # an audit outage must not stop sends; the log line above remains
            logger.exception("provider circuit not audited")


class Breaker:
    """The circuit of one provider: `allow()` before a call, `record(result)` after it."""

    def __init__(self, name: str):
        self.name = name
        self._healthy_at = float("-inf")
        self.storage = storage = pybreaker.CircuitRedisStorage(
            pybreaker.STATE_CLOSED, get_redis(), namespace=key(f"providers:circuit:{name}")
        )
        self.circuit = pybreaker.CircuitBreaker(
            fail_max=settings.PROVIDER_BREAKER_FAIL_MAX,
            reset_timeout=settings.PROVIDER_BREAKER_RESET_SECONDS,
            state_storage=storage,
            listeners=[_Audit()],
            name=name,
        )

    @property
    def state(self) -> str:
        return self.circuit.current_state

    def _closed_recently(self) -> bool:
        """Closed with no failure counted, as this process saw less than LOCAL_SECONDS ago."""
        return time.monotonic() - self._healthy_at < LOCAL_SECONDS

    def allow(self) -> None:
        """Raise ProviderUnavailable(name, "circuit_open") while the circuit is open and not yet due a trial."""
        if self._closed_recently():  # healthy a moment ago: no Redis round trip on the busy path
            return
        circuit = self.circuit
        circuit.fail_max = settings.PROVIDER_BREAKER_FAIL_MAX
        circuit.reset_timeout = settings.PROVIDER_BREAKER_RESET_SECONDS
        if circuit.state.name != pybreaker.STATE_OPEN:
            return
        opened_at = self.storage.opened_at
        if opened_at and dt.datetime.now(dt.UTC) < opened_at + dt.timedelta(seconds=circuit.reset_timeout):
            raise ProviderUnavailable(self.name, "circuit_open")
        circuit.half_open()  # this call is the trial: its result closes or opens the circuit again

    def record(self, result: Result | None = None, *, failed: bool = False) -> None:
        """Count `result` (or an exception, `failed=True`): an outage counts, anything else resets the count."""
        counted = failed or (result is not None and result.outcome in COUNTED)
        if counted:
            self._healthy_at = float("-inf")
        elif self._closed_recently():  # the count is already zero: nothing to reset
            return
        with contextlib.suppress(_Counted, pybreaker.CircuitBreakerError):
            self.circuit.call(_fail if counted else _nothing)
        if not counted and self.circuit.current_state == pybreaker.STATE_CLOSED:
            self._healthy_at = time.monotonic()

    def call(self, function, *args, **kwargs) -> Result:
        """Call `function` (an adapter's send) under the circuit."""
        self.allow()
        try:
            result = function(*args, **kwargs)
        except ProviderUnavailable:
            raise
        except Exception:
            self.record(failed=True)
            raise
        self.record(result)
        return result

    async def call_async(self, function, *args, **kwargs) -> Result:
        """Await `function` (an adapter's send_async) under the circuit."""
        self.allow()
        try:
            result = await function(*args, **kwargs)
        except ProviderUnavailable:
            raise
        except Exception:
            self.record(failed=True)
            raise
        self.record(result)
        return result


def _nothing() -> None:
    return None


def _fail() -> None:
    raise _Counted()


_breakers: dict[str, Breaker] = {}
_lock = threading.Lock()


def breaker(name: str) -> Breaker:
    """The breaker of provider `name` (one object per process, state shared through Redis)."""
    found = _breakers.get(name)
    if found is None:
        with _lock:
            found = _breakers.setdefault(name, Breaker(name))
    return found
