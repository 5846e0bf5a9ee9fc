"""APNs alerts through aioapns: token (.p8) auth, one long-lived client per worker process.

Apple answers 403 TooManyProviderTokenUpdates when the provider JWT changes too often (it wants
one renewal every 20 to 60 minutes), so each process keeps a single aioapns connection pool and
every connection it opens signs with the same JWT. aioapns itself builds a new
JWTAuthorizationHeaderProvider, hence a new JWT, for every connection it opens, and it closes a
connection after 10 s without traffic; `_Pool` shares one provider instead, which renews its JWT
after 30 minutes (aioapns' TOKEN_TTL; Apple accepts a JWT up to an hour old).

aioapns is asyncio: the pool lives on the process's provider loop (`samia/providers/aio.py`).
`send_async()` runs on that loop (the dispatcher keeps many pushes in flight over the pool's HTTP/2
streams); `send()` hands it the same coroutine with run_coroutine_threadsafe for synchronous
callers. A forked child never uses its parent's loop: the client is rebuilt whenever os.getpid()
changes.

The aioapns seams used, none patched globally:
- `APNsKeyConnectionPool.create_connection` (overridden: shared JWT provider);
- `pool.protocol_class` (a subclass per pool whose APNS_SERVER/APNS_PORT name APNS_HOST:APNS_PORT
  when set, for tests, and which adds what aioapns leaves out: it keeps Retry-After, returns
  HTTP/2 flow-control credit, forgets finished and abandoned requests, and never hands out a
  connection that is already closing);
- `pool.acquire()` and `connection.send_notification()` are called directly rather than
  `pool.send_notification()`, which retries with 1 s sleeps and cannot tell "never sent"
  (safe to retry) from "sent, no answer" (unknown outcome).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import ssl
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache, partial

from aioapns.common import PRIORITY_HIGH, PRIORITY_NORMAL, NotificationRequest, NotificationResult, PushType
from aioapns.connection import APNsKeyConnectionPool, APNsTLSClientProtocol, JWTAuthorizationHeaderProvider
from aioapns.exceptions import ConnectionClosed
from aioapns.exceptions import ConnectionError as APNsConnectionError
from django.conf import settings
from django.utils.http import parse_http_date_safe
from h2.exceptions import H2Error, NoAvailableStreamIDError

from samia import secrets
from samia.providers import aio
from samia.providers.base import Health, Outcome, Provider, Result

logger = logging.getLogger(__name__)

PRODUCTION_HOST = "api.push.apple.com"
SANDBOX_HOST = "api.sandbox.push.apple.com"
MAX_COLLAPSE_ID_BYTES = 64
# Device tokens are hex; anything that could change the request path is refused before sending.
DEVICE_TOKEN = re.compile(r"[0-9A-Za-z_-]{1,400}")
# 400 reasons that say the token is dead or belongs to another app: deactivate it, do not retry.
INVALID_TOKEN_REASONS = {"BadDeviceToken", "DeviceTokenNotForTopic"}
# Extra seconds the calling thread waits beyond the coroutine's own timeout (loop scheduling).
CALLER_MARGIN_SECONDS = 1.0


@dataclass(frozen=True)
class _Config:
    key: str = field(repr=False)
    key_id: str
    team_id: str
    topic: str
    use_sandbox: bool
    host: str
    port: int
    ca_file: str

    @classmethod
    def from_settings(cls) -> _Config:
        key_id, key = _signing_key()
        return cls(
            key=key,
            key_id=key_id,
            team_id=settings.APNS_TEAM_ID,
            topic=settings.APNS_TOPIC,
            use_sandbox=settings.APNS_USE_SANDBOX,
            host=settings.APNS_HOST,
            port=settings.APNS_PORT,
            ca_file=settings.APNS_CA_FILE,
        )


def _signing_key() -> tuple[str, str]:
    """(key id, .p8 text): the key set through the keyring (`manage.py secrets_set apns_key`), else
    APNS_KEY_ID and APNS_KEY_PEM. A new key makes a new config, hence a new pool and a new JWT."""
    stored = secrets.credential("apns_key")
    return _parsed(stored) if stored else (settings.APNS_KEY_ID, settings.APNS_KEY_PEM)


@lru_cache(maxsize=4)
def _parsed(value: str) -> tuple[str, str]:
    """The key id and key of an `apns_key` value; ("", "") when it is not one (then: not configured)."""
    try:
        found = json.loads(value)
        return str(found["key_id"]), str(found["key"])
    except (ValueError, TypeError, KeyError):
        return "", ""


class _Protocol(APNsTLSClientProtocol):
    """aioapns' HTTP/2 client protocol, plus the bookkeeping it leaves out."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.retry_after: dict[str, str] = {}  # apns-id -> Retry-After (NotificationResult drops headers)

    @property
    def is_busy(self) -> bool:
        # A closing connection stays in the pool until connection_lost: never hand it out meanwhile.
        return self.transport is None or self.transport.is_closing() or super().is_busy

    def on_response_received(self, headers: dict[bytes, bytes]) -> None:
        if b"retry-after" in headers:
            self.retry_after[headers.get(b"apns-id", b"").decode()] = headers[b"retry-after"].decode()
        super().on_response_received(headers)

    def on_data_received(self, raw_data: bytes, stream_id: int) -> None:
        # Hand the flow-control credit back: otherwise APNs stalls once 64 KiB of error bodies arrived.
        self.conn.acknowledge_received_data(len(raw_data), stream_id)
        notification_id = self.request_streams.get(stream_id)
        super().on_data_received(raw_data, stream_id)
        if notification_id not in self.requests:  # answered, or abandoned after a timeout
            self.request_statuses.pop(notification_id, None)

    def connection_lost(self, exc: Exception | None) -> None:
        # Requests abandoned after a timeout hold cancelled futures: aioapns would fail setting them.
        for notification_id, future in list(self.requests.items()):
            if future.done():
                del self.requests[notification_id]
        super().connection_lost(exc)

    def on_stream_ended(self, stream_id: int) -> None:
        self.request_streams.pop(stream_id, None)  # a 200 has no body, so aioapns never drops it
        super().on_stream_ended(stream_id)


class _Pool(APNsKeyConnectionPool):
    """aioapns' token-auth pool whose connections share one JWT, optionally aimed at another host."""

    def __init__(self, config: _Config):
        # Only the given CA when one is set (tests); the system's otherwise.
        context = ssl.create_default_context(cafile=config.ca_file or None)
        context.set_alpn_protocols(["h2"])
        super().__init__(
            key=config.key,
            key_id=config.key_id,
            team_id=config.team_id,
            topic=config.topic,
            use_sandbox=config.use_sandbox,
            ssl_context=context,
        )
        server = config.host or (SANDBOX_HOST if config.use_sandbox else PRODUCTION_HOST)
        port = config.port if config.host else 443
        self.protocol_class = type("APNsProtocol", (_Protocol,), {"APNS_SERVER": server, "APNS_PORT": port})
        self.auth = JWTAuthorizationHeaderProvider(key=config.key, key_id=config.key_id, team_id=config.team_id)

    async def create_connection(self) -> _Protocol:
        factory = partial(self.protocol_class, self.apns_topic, self.loop, self.discard_connection, self.auth)
        return await self._create_connection(factory)


class _Client:
    """This process's aioapns pool, on the process's provider loop (samia/providers/aio.py)."""

    def __init__(self, config: _Config):
        self.config = config
        self.pid = os.getpid()
        self.loop = aio.loop()
        # aioapns binds the pool to asyncio.get_event_loop(): build it on the provider loop.
        self.pool: _Pool = _Pool(config) if aio.here() else self.call(self._build(), timeout=10)

    async def _build(self) -> _Pool:
        return _Pool(self.config)

    def submit(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop)

    def call(self, coroutine, timeout: float):
        return self.submit(coroutine).result(timeout)

    def close(self) -> None:
        if aio.here():  # on the loop itself: close without waiting for it
            self.pool.close()
            return
        try:
            self.call(self._close_connections(), timeout=5)
        except Exception:
            logger.debug("apns client: closing its connections failed", exc_info=True)

    async def _close_connections(self) -> None:
        self.pool.close()
        for _ in range(50):  # let the TLS transports report connection_lost
            if not self.pool.connections:
                break
            await asyncio.sleep(0.01)


_lock = threading.Lock()
_client: _Client | None = None


def _reinitialise_after_fork() -> None:
    global _lock
    _lock = threading.Lock()  # another thread may have held it at the fork: it stays held in the child


os.register_at_fork(after_in_child=_reinitialise_after_fork)


def _client_for(config: _Config) -> _Client:
    """Return this process's client, building it on first use, after a fork or when settings changed."""
    global _client
    with _lock:
        if _client is not None and _client.pid != os.getpid():
            _client = None  # inherited from the parent: its loop thread does not run here
        if _client is not None and _client.config != config:
            _client.close()
            _client = None
        if _client is None:
            _client = _Client(config)
        return _client


def reset_clients() -> None:
    """Close this process's client: its connections, its loop and its thread (tests, shutdown)."""
    global _client
    with _lock:
        client, _client = _client, None
    if client is not None and client.pid == os.getpid():
        client.close()


async def _push(pool: _Pool, request: NotificationRequest, timeout: float) -> Result:
    """Send one notification within `timeout` seconds and map whatever happens onto a Result."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    if not _key_usable(pool):
        return Result(Outcome.PERMANENT, code="bad_key")
    try:
        connection = await asyncio.wait_for(pool.acquire(), timeout)
    except (APNsConnectionError, TimeoutError):
        return Result(Outcome.RETRYABLE, code="connect")  # nothing was sent

    notification_id = request.notification_id
    try:
        response = await asyncio.wait_for(connection.send_notification(request), max(deadline - loop.time(), 0))
    except (TimeoutError, ConnectionClosed, H2Error) as error:
        # aioapns files the request's future right after writing it: that tells "maybe delivered"
        # (unknown, do not resend blindly) from "never sent" (retryable).
        written = notification_id in connection.requests
        if isinstance(error, TimeoutError):
            code = "timeout"
            if written:
                connection.close()  # no answer in time: the connection may be dead, the next send opens another
        elif isinstance(error, ConnectionClosed):
            code = "connection_closed"
        else:
            code = type(error).__name__
            if isinstance(error, NoAvailableStreamIDError):
                connection.close()  # stream ids used up: aioapns does the same
        return Result(Outcome.UNKNOWN if written else Outcome.RETRYABLE, code=code)
    finally:
        # A late answer to an abandoned request must find no future (setting a cancelled one raises).
        connection.requests.pop(notification_id, None)
        retry_after = connection.retry_after.pop(notification_id, None)
    return _result(response, retry_after)


def _key_usable(pool: _Pool) -> bool:
    """Build (or reuse) the JWT now, so a bad key fails before a stream is taken."""
    try:
        pool.auth.get_header()
    except Exception as error:
        logger.warning("apns signing key unusable: %s", type(error).__name__)
        return False
    return True


def _result(response: NotificationResult, retry_after: str | None) -> Result:
    """Map an APNs answer (status + reason) onto the provider taxonomy."""
    status = int(response.status or 0)
    reason = response.description or ""
    if status == 200:
        return Result(Outcome.SENT, message_id=response.notification_id)
    code = reason or f"http_{status}"
    if status == 410:  # Unregistered (or ExpiredToken): the app was removed or the token replaced
        return Result(Outcome.INVALID_RECIPIENT, code=code, details=_unregistered_at(response.timestamp))
    if status == 400 and reason in INVALID_TOKEN_REASONS:
        return Result(Outcome.INVALID_RECIPIENT, code=code)
    if status == 403:  # our credentials: every push fails until someone fixes the key or the clock
        logger.warning("apns refused the provider credentials (%s)", code)
        return Result(Outcome.PERMANENT, code=code)
    if status == 429 or status >= 500:
        return Result(Outcome.RETRYABLE, code=code, retry_after_seconds=_seconds(retry_after))
    return Result(Outcome.PERMANENT, code=code)  # 400 bad headers, 404, 405, 413: never succeeds as is


def _unregistered_at(timestamp) -> dict:
    """APNs gives milliseconds since the epoch; the dispatcher compares it with the token's registration."""
    try:
        instant = datetime.fromtimestamp(int(timestamp) / 1000, tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return {}
    return {"unregistered_at": instant.isoformat(timespec="milliseconds")}


def _seconds(retry_after: str | None) -> int | None:
    """Retry-After is either seconds or an HTTP date."""
    if not retry_after:
        return None
    if retry_after.strip().isdigit():
        return int(retry_after)
    epoch = parse_http_date_safe(retry_after)
    return max(int(epoch - time.time()), 0) if epoch is not None else None


async def _connect(pool: _Pool, timeout: float) -> str:
    """Open (or reuse) a connection; return "" when it works, else a code."""
    if not _key_usable(pool):
        return "bad_key"
    try:
        await asyncio.wait_for(pool.acquire(), timeout)
    except (APNsConnectionError, TimeoutError):
        return "connect"
    return ""


class APNsProvider(Provider):
    """Apple push notifications: alerts to iOS devices."""

    name = "apns"

    def configured(self) -> bool:
        return all((*_signing_key(), settings.APNS_TEAM_ID, settings.APNS_TOPIC))

    def send(
        self,
        *,
        token: str,
        title: str,
        body: str,
        data: dict[str, str] | None = None,
        collapse_id: str = "",
        ttl_seconds: int = 86400,
        critical: bool = False,
    ) -> Result:
        """Push one alert; raise ProviderUnavailable when unconfigured, otherwise every failure is a Result."""
        self.require()
        message = dict(token=token, title=title, body=body, data=data, collapse_id=collapse_id)
        future = aio.submit(self.send_async(**message, ttl_seconds=ttl_seconds, critical=critical))
        try:
            return future.result(settings.PROVIDER_TIMEOUT_SECONDS + CALLER_MARGIN_SECONDS)
        except TimeoutError:  # the loop did not even finish in time: the request may be out
            future.cancel()
            return Result(Outcome.UNKNOWN, code="timeout")
        except Exception as error:
            logger.warning("apns send failed: %s", type(error).__name__)
            return Result(Outcome.UNKNOWN, code=type(error).__name__)

    async def send_async(
        self,
        *,
        token: str,
        title: str,
        body: str,
        data: dict[str, str] | None = None,
        collapse_id: str = "",
        ttl_seconds: int = 86400,
        critical: bool = False,
    ) -> Result:
        """`send()` on the provider loop: one HTTP/2 stream of the shared pool."""
        self.require()
        if not DEVICE_TOKEN.fullmatch(token or ""):
            return Result(Outcome.INVALID_RECIPIENT, code="BadDeviceToken")
        if len(collapse_id.encode()) > MAX_COLLAPSE_ID_BYTES:
            return Result(Outcome.PERMANENT, code="BadCollapseId")
        request = NotificationRequest(
            device_token=token,
            message={**(data or {}), "aps": {"alert": {"title": title, "body": body}, "sound": "default"}},
            time_to_live=ttl_seconds,  # aioapns sends apns-expiration = now + ttl
            priority=int(PRIORITY_HIGH if critical else PRIORITY_NORMAL),
            collapse_key=collapse_id or None,
            push_type=PushType.ALERT,
        )
        try:
            client = _client_for(_Config.from_settings())
        except Exception as error:  # e.g. an unreadable CA file
            logger.warning("apns client setup failed: %s", type(error).__name__)
            return Result(Outcome.RETRYABLE, code="client_setup")
        try:
            return await _push(client.pool, request, settings.PROVIDER_TIMEOUT_SECONDS)
        except Exception as error:
            logger.warning("apns send failed: %s", type(error).__name__)
            return Result(Outcome.UNKNOWN, code=type(error).__name__)

    def probe(self) -> Health:
        """Report whether a TLS + HTTP/2 connection to APNs opens (no notification is sent)."""
        return self._probe(push=False)

    def probe_credentials(self) -> Health:
        """Whether APNs accepts the key: a silent push to a device token no device has.

        APNs checks the provider JWT before the device token: 403 (InvalidProviderToken) refuses the
        key, 400 BadDeviceToken accepts it, and nothing reaches any device.
        """
        return self._probe(push=True)

    def _probe(self, *, push: bool) -> Health:
        if not self.configured():
            return Health(self.name, False, "not_configured")
        timeout = settings.PROVIDER_TIMEOUT_SECONDS
        try:
            detail = aio.call(_probe(_Config.from_settings(), timeout, push=push), timeout * 2 + CALLER_MARGIN_SECONDS)
        except TimeoutError:
            detail = "timeout"
        except Exception as error:
            detail = type(error).__name__
        return Health(self.name, not detail, detail)


# 32 zero bytes: a well-formed device token that no device has.
NO_DEVICE_TOKEN = "0" * 64


async def _probe(config: _Config, timeout: float, *, push: bool = False) -> str:
    # The client is built on the loop, like every send's (never while a thread waits on the loop).
    pool = _client_for(config).pool
    failed = await _connect(pool, timeout)
    if failed or not push:
        return failed
    request = NotificationRequest(
        device_token=NO_DEVICE_TOKEN,
        message={"aps": {"content-available": 1}},
        priority=int(PRIORITY_NORMAL),  # a background push must be 5
        push_type=PushType.BACKGROUND,
    )
    result = await _push(pool, request, timeout)
    return "" if result.outcome in (Outcome.SENT, Outcome.INVALID_RECIPIENT) else result.code or "refused"
