"""Twilio SMS and WhatsApp adapters: the real twilio library, one Messaging Service, no retries.

A resent POST may deliver a text twice, so nothing here retries: the library has no retries of
its own, and the requests adapters are mounted with none. A failure before the request left
(connection refused, connect timeout) is retryable; one after it may have reached Twilio (read
timeout, connection reset) is UNKNOWN and the dispatcher decides.

`send_async()` is the dispatcher's path: the same request through the library's async client
(`AsyncTwilioHttpClient`, aiohttp) on the process's provider loop (`samia/providers/aio.py`),
its connection pool holding up to PROVIDER_MAX_CONNECTIONS requests in flight, still no retries.

Tests point the client at a local fake (tests/fakes/twilio.py) with TWILIO_API_BASE.
"""

from __future__ import annotations

import contextvars
import json
import logging
import math
import os
import threading
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import aiohttp
import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, SSLError

from samia import secrets
from samia.providers import aio
from samia.providers.base import Health, Outcome, Provider, Result

# twilio's HTTP client logs request URLs and response headers at INFO. settings.LOGGING sets it to
# WARNING as well; this holds where LOGGING is not applied (scripts, a bare shell).
logging.getLogger("twilio.http_client").setLevel(logging.WARNING)

logger = logging.getLogger(__name__)

# The address is dead or opted out (21610 is STOP): the dispatcher suppresses it.
INVALID_RECIPIENT_CODES = frozenset({"21610", "21211", "21612", "21614", "63003"})
RATE_LIMITED_CODES = frozenset({"20429"})

TwilioError = (TwilioRestException, TwilioServiceException)


def _auth_token() -> str:
    """The auth token set through the keyring (`manage.py secrets_set twilio_auth_token`), else TWILIO_AUTH_TOKEN."""
    return secrets.credential("twilio_auth_token") or settings.TWILIO_AUTH_TOKEN


# The Retry-After of the answer to the request being made in this asyncio task (the library's
# exception carries no headers; awaiting does not copy the context, so the caller reads it).
_answer_headers: contextvars.ContextVar[dict] = contextvars.ContextVar("twilio_answer_headers")


class _AsyncHttpClient(AsyncTwilioHttpClient):
    """The library's aiohttp client with its session built on the provider loop, a bounded pool,
    connect and read timeouts, and the answer's Retry-After kept for the caller. No retries."""

    def __init__(self, timeout: float):
        super().__init__(pool_connections=False, timeout=timeout)
        self._session: aiohttp.ClientSession | None = None

    def _pool(self) -> aiohttp.ClientSession:
        if self._session is None:
            # connect covers the wait for a free pooled connection too: a timeout there sent nothing.
            timeout = aiohttp.ClientTimeout(total=None, connect=self.timeout, sock_read=self.timeout)
            connector = aiohttp.TCPConnector(limit=settings.PROVIDER_MAX_CONNECTIONS)
            self._session = aio.closing(aiohttp.ClientSession(connector=connector, timeout=timeout))
        return self._session

    async def request(self, method, url, params=None, data=None, headers=None, auth=None, timeout=None, **kwargs):
        headers = dict(headers or {})
        if auth:
            headers["Authorization"] = aiohttp.encode_basic_auth(auth[0], auth[1])
        async with self._pool().request(
            method.upper(), url, params=params, data=data, headers=headers, allow_redirects=False
        ) as response:
            text = await response.text()
        holder = _answer_headers.get(None)
        if holder is not None:
            holder["retry_after"] = response.headers.get("Retry-After")
        return Response(response.status, text, response.headers)


class TwilioProvider(Provider):
    """Send through the Messaging Service TWILIO_MESSAGING_SERVICE_SID; subclasses address the channel."""

    def __init__(self):
        # The response hook runs in the sending thread; Retry-After is read right after the call fails.
        self._last_response = threading.local()
        self._sync: tuple[str, Client] | None = None  # (auth token, client)
        self._async: tuple[int, str, Client] | None = None  # (pid, auth token, client)

    def configured(self) -> bool:
        return bool(settings.TWILIO_ACCOUNT_SID and _auth_token() and settings.TWILIO_MESSAGING_SERVICE_SID)

    @property
    def client(self) -> Client:
        """One client per adapter and auth token, keeping its pooled requests session between sends
        (a token set through the keyring gets a client of its own)."""
        token = _auth_token()
        if self._sync is None or self._sync[0] != token:
            http_client = TwilioHttpClient(
                timeout=settings.PROVIDER_TIMEOUT_SECONDS,
                request_hooks={"response": [self._remember_response]},
            )
            # requests' default adapter already retries nothing; say so on both schemes, so a later
            # default cannot resend a message. Pool size as twilio sizes it.
            adapter = HTTPAdapter(max_retries=0, pool_maxsize=min(32, (os.cpu_count() or 1) + 4))
            http_client.session.mount("https://", adapter)
            http_client.session.mount("http://", adapter)
            self._sync = (token, self._aimed(Client(settings.TWILIO_ACCOUNT_SID, token, http_client=http_client)))
        return self._sync[1]

    @staticmethod
    def _aimed(client: Client) -> Client:
        if settings.TWILIO_API_BASE:
            # Every resource used here lives in the Api domain (client.api.v2010...), whose
            # base_url is read on each request. An edge or region (TWILIO_EDGE/TWILIO_REGION in
            # the environment) would rewrite the host, so they are dropped.
            client.api.base_url = settings.TWILIO_API_BASE
            client.edge = client.region = None
        return client

    def send(
        self,
        *,
        to: str,
        body: str = "",
        content_sid: str = "",
        content_variables: dict[str, str] | None = None,
        status_callback: str = "",
    ) -> Result:
        """Send a free-form `body` or an approved template (`content_sid` + `content_variables`) to `to`."""
        message = self._message(to, body, content_sid, content_variables, status_callback)
        self._last_response.retry_after = None
        try:
            created = self.client.api.v2010.account.messages.create(**message)
        except TwilioError as error:
            result = self._refused(error, getattr(self._last_response, "retry_after", None))
        except requests.exceptions.RequestException as error:
            result = _transport_failure(error)
        else:
            result = Result(Outcome.SENT, message_id=created.sid)
        return self._logged(result)

    async def send_async(
        self,
        *,
        to: str,
        body: str = "",
        content_sid: str = "",
        content_variables: dict[str, str] | None = None,
        status_callback: str = "",
    ) -> Result:
        """`send()` on the provider loop, through the library's async client."""
        message = self._message(to, body, content_sid, content_variables, status_callback)
        holder: dict = {}
        _answer_headers.set(holder)
        try:
            created = await self._async_client().api.v2010.account.messages.create_async(**message)
        except TwilioError as error:
            result = self._refused(error, holder.get("retry_after"))
        except (TimeoutError, aiohttp.ClientError) as error:
            result = _async_transport_failure(error)
        else:
            result = Result(Outcome.SENT, message_id=created.sid)
        return self._logged(result)

    def _async_client(self) -> Client:
        """This process's async client; its session is bound to the provider loop it is built on."""
        token = _auth_token()
        if self._async is None or self._async[:2] != (os.getpid(), token):
            http_client = _AsyncHttpClient(timeout=settings.PROVIDER_TIMEOUT_SECONDS)
            client = self._aimed(Client(settings.TWILIO_ACCOUNT_SID, token, http_client=http_client))
            self._async = (os.getpid(), token, client)
        return self._async[2]

    def _logged(self, result: Result) -> Result:
        # The outcome and Twilio's code only: the library's message may quote the number. Accepted
        # sends are counted by the dispatcher's run summary; refusals are worth a line each.
        level = logging.DEBUG if result.ok else logging.INFO
        logger.log(
            level, "twilio send", extra={"provider": self.name, "outcome": result.outcome.value, "code": result.code}
        )
        return result

    def _message(self, to, body, content_sid, content_variables, status_callback) -> dict:
        if bool(body) == bool(content_sid):
            raise ValueError("give exactly one of body or content_sid")
        if content_variables is not None and not content_sid:
            raise ValueError("content_variables go with a content_sid")
        self.require()
        message = {"to": self.address(to), "messaging_service_sid": settings.TWILIO_MESSAGING_SERVICE_SID}
        message.update(self.sender())
        if body:
            message["body"] = body
        else:
            message["content_sid"] = content_sid
            if content_variables is not None:
                message["content_variables"] = json.dumps(content_variables, ensure_ascii=False)
        if status_callback:
            message["status_callback"] = status_callback
        return message

    def probe(self) -> Health:
        """Fetch the account: the credentials work and the account is active."""
        if not self.configured():
            return Health(self.name, False, "not_configured")
        try:
            account = self.client.api.v2010.accounts(settings.TWILIO_ACCOUNT_SID).fetch()
        except TwilioError as error:
            return Health(self.name, False, f"http_{error.status}")
        except requests.exceptions.RequestException as error:
            return Health(self.name, False, _transport_failure(error).code)
        if account.status != "active":
            return Health(self.name, False, f"account_{account.status}")
        return Health(self.name, True)

    def address(self, number: str) -> str:
        """The `To` for an E.164 number on this channel."""
        return number

    def sender(self) -> dict[str, str]:
        """Sender fields besides the Messaging Service."""
        return {}

    def _refused(self, error: TwilioRestException | TwilioServiceException, retry_after_header: str | None) -> Result:
        status = int(error.status)
        code = str(error.code if error.code is not None else status)
        retry_after = None
        if code in INVALID_RECIPIENT_CODES:
            outcome = Outcome.INVALID_RECIPIENT
        elif status == 429 or code in RATE_LIMITED_CODES or status >= 500:
            outcome = Outcome.RETRYABLE
            retry_after = _seconds(retry_after_header)
        else:  # 63016 (outside the 24h window), 20003 (credentials), 20404, any other 4xx
            outcome = Outcome.PERMANENT
        return Result(outcome, code=code, retry_after_seconds=retry_after, details={"http_status": status})

    def _remember_response(self, response, *args, **kwargs):
        # TwilioRestException carries no headers; the requests hook sees them first.
        self._last_response.retry_after = response.headers.get("Retry-After")


class SMSProvider(TwilioProvider):
    name = "sms"


class WhatsAppProvider(TwilioProvider):
    """WhatsApp through the same Messaging Service; outside the 24h window the caller sends a template."""

    name = "whatsapp"

    def address(self, number: str) -> str:
        return number if number.startswith("whatsapp:") else f"whatsapp:{number}"

    def sender(self) -> dict[str, str]:
        sender = settings.TWILIO_WHATSAPP_FROM
        return {"from_": self.address(sender)} if sender else {}


def _transport_failure(error: requests.exceptions.RequestException) -> Result:
    """RETRYABLE when the request never left, UNKNOWN when it may have reached Twilio."""
    if isinstance(error, requests.exceptions.ConnectTimeout):
        return Result(Outcome.RETRYABLE, code="connect")
    if isinstance(error, requests.exceptions.ConnectionError):
        # With no retries, urllib3 wraps only failures to connect (refused, DNS, TLS) in
        # MaxRetryError; a reset or a close after the request was sent surfaces bare (ProtocolError).
        reason = error.args[0] if error.args else None
        if isinstance(reason, MaxRetryError) and isinstance(reason.reason, ConnectTimeoutError | SSLError):
            return Result(Outcome.RETRYABLE, code="connect")
        return Result(Outcome.UNKNOWN, code="timeout")
    if isinstance(error, requests.exceptions.Timeout | requests.exceptions.ChunkedEncodingError):
        return Result(Outcome.UNKNOWN, code="timeout")  # ReadTimeout or a cut answer: it was sent
    return Result(Outcome.PERMANENT, code="request")  # refused before sending (e.g. a malformed URL)


def _async_transport_failure(error: aiohttp.ClientError | TimeoutError) -> Result:
    """As `_transport_failure`, for aiohttp: RETRYABLE before the request left, UNKNOWN after."""
    if isinstance(error, aiohttp.ClientConnectorError | aiohttp.ConnectionTimeoutError):
        return Result(Outcome.RETRYABLE, code="connect")  # refused, TLS, or no pooled connection in time
    if isinstance(error, aiohttp.InvalidURL):
        return Result(Outcome.PERMANENT, code="request")
    return Result(Outcome.UNKNOWN, code="timeout")  # read timeout, reset or cut answer after sending


def _seconds(retry_after: str | None) -> int | None:
    """Retry-After as seconds (it may also be an HTTP date), or None."""
    if not retry_after:
        return None
    if retry_after.strip().isdigit():
        return int(retry_after)
    try:
        when = parsedate_to_datetime(retry_after)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0, math.ceil((when - datetime.now(UTC)).total_seconds()))
