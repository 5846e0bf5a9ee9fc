"""Push to Android and web devices through FCM HTTP v1, with the pyfcm library.

pyfcm builds the message, holds the service account credentials and keeps the HTTP session;
this adapter posts the request itself, once. pyfcm's `send_request` sleeps and resends whenever
FCM sends Retry-After (and its default adapter lets urllib3 resend POSTs on 502/503), while
retries belong to the notifications dispatcher; its `parse_response` also drops the FCM error
code and the Retry-After that the dispatcher needs. One `send()` is one HTTP request.

`send_async()` is the dispatcher's path: the same payload and the same shared access token, posted
by aiohttp on the process's provider loop (`samia/providers/aio.py`) over a pool of keep-alive
HTTP/1.1 connections (PROVIDER_MAX_CONNECTIONS), which FCM's v1 endpoint serves as well as HTTP/2.
httpx over HTTP/2 was measured first: 1.6 ms of CPU per request (3.5 ms over HTTP/1.1) against
aiohttp's 0.3 ms, on a 2-core machine that must also run the workers, Postgres and the fakes at
1,000 pushes a second (bench/RESULTS.md, "Campaign delivery at real provider latency").
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
import re
import threading
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import aiohttp
import google.auth.exceptions
import google.auth.transport
import google.auth.transport.requests
import requests
from django.conf import settings
from google.oauth2 import service_account
from pyfcm import FCMNotification
from requests.adapters import HTTPAdapter
from urllib3.exceptions import NewConnectionError

from samia import secrets
from samia.providers import aio
from samia.providers.base import Health, Outcome, Provider, Result

logger = logging.getLogger(__name__)

SCOPES = ["https://www.googleapis.com/auth/firebase.messaging"]
# FcmError codes meaning the device token is dead: the dispatcher deactivates it.
DEAD_TOKEN_CODES = {"UNREGISTERED", "SENDER_ID_MISMATCH"}
RETRYABLE_CODES = {"QUOTA_EXCEEDED", "UNAVAILABLE", "INTERNAL", "RESOURCE_EXHAUSTED"}
RETRYABLE_STATUSES = {429, 500, 502, 503, 504}
# The Web Push Topic header allows at most 32 characters of the URL-safe base64 alphabet.
WEBPUSH_TOPIC = re.compile(r"[A-Za-z0-9_-]{1,32}")


class _TokenRequest(google.auth.transport.requests.Request):
    """google-auth's HTTP transport with PROVIDER_TIMEOUT_SECONDS, failing at once on a 5xx or 429 from the token endpoint.

    google-auth would otherwise wait up to 120 s and sleep between three attempts.
    """

    def __call__(self, url, method="GET", body=None, headers=None, timeout=None, **kwargs):
        response = super().__call__(url, method, body, headers, timeout=settings.PROVIDER_TIMEOUT_SECONDS, **kwargs)
        if response.status in google.auth.transport.DEFAULT_RETRYABLE_STATUS_CODES:
            raise google.auth.exceptions.TransportError(f"token endpoint answered {response.status}")
        return response


class _Client(FCMNotification):
    """pyfcm's client aimed at FCM_END_POINT_BASE and FCM_PROJECT_ID, sharing one cached access token."""

    def __init__(self, *, credentials, project_id: str, end_point_base: str):
        # max_retries=0: no urllib3 resends. A larger pool serves concurrent sending threads.
        super().__init__(
            credentials=credentials, project_id=project_id, adapter=HTTPAdapter(max_retries=0, pool_maxsize=32)
        )
        self.FCM_END_POINT_BASE = f"{end_point_base.rstrip('/')}/v1/projects"
        self._token_request = _TokenRequest()
        self._token_lock = threading.Lock()

    @property
    def fcm_end_point(self) -> str:
        # pyfcm prefers the key file's project_id; the configured project wins here.
        return f"{self.FCM_END_POINT_BASE}/{self._project_id}/messages:send"

    def access_token(self) -> str:
        """Return the access token, fetching one only when google-auth no longer holds it valid."""
        # pyfcm fetches a new token per thread every 30 minutes whatever its expiry; one shared
        # token, refreshed by google-auth's clock, costs one token request per hour.
        with self._token_lock:
            if not self.credentials.valid:
                self.credentials.refresh(self._token_request)
            return self.credentials.token

    def forget_access_token(self) -> None:
        """Drop a token FCM rejected, so the next send fetches a new one."""
        with self._token_lock:
            self.credentials.token = None

    def _get_access_token(self) -> str:  # pyfcm's hook behind request_headers()
        return self.access_token()


class FCMProvider(Provider):
    """FCM HTTP v1 push: one request per device token."""

    name = "fcm"

    def __init__(self):
        self._client: _Client | None = None
        self._account = ""  # the service account the client was built with
        self._client_lock = threading.Lock()
        self._async: tuple[int, aiohttp.ClientSession] | None = None

    def configured(self) -> bool:
        return bool(settings.FCM_PROJECT_ID and _service_account())

    def client(self) -> _Client:
        """Build pyfcm's client once per service account, so its session and access token serve every send.

        A service account set through the keyring gets a client of its own, hence a token of its own:
        the token of the previous account is never used again (sync and async sends share the client).
        """
        account = _service_account()
        with self._client_lock:
            if self._client is None or account != self._account:
                info = json.loads(account)
                if not isinstance(info, dict):
                    raise ValueError("a service account key file is a JSON object")
                credentials = service_account.Credentials.from_service_account_info(info, scopes=SCOPES)
                self._client = _Client(
                    credentials=credentials,
                    project_id=settings.FCM_PROJECT_ID,
                    end_point_base=settings.FCM_END_POINT_BASE,
                )
                self._account = account
            return self._client

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
        """Send one notification to one device token and say what became of it."""
        self.require()
        try:
            client = self.client()
        except ValueError:  # unreadable key file; its text never goes further than here
            return _reported(Result(Outcome.PERMANENT, code="invalid_service_account"))
        payload = _payload(client, token, title, body, data, collapse_id, ttl_seconds, critical)
        try:
            headers = client.request_headers()  # the bearer token, fetched or cached
            response = client.requests_session.post(
                client.fcm_end_point, data=payload, headers=headers, timeout=settings.PROVIDER_TIMEOUT_SECONDS
            )
        except google.auth.exceptions.RefreshError as error:  # the token endpoint refused the key
            result = Result(Outcome.PERMANENT, code=_oauth_error(error))
        except google.auth.exceptions.TransportError:  # the token endpoint is down: FCM never saw the send
            result = Result(Outcome.RETRYABLE, code="token_unavailable")
        except (requests.ConnectTimeout, requests.exceptions.SSLError):
            result = Result(Outcome.RETRYABLE, code="connect")
        except requests.ConnectionError as error:
            # Refused before connecting, or dropped after the request went out (FCM may have it).
            never_sent = isinstance(getattr(error.args[0] if error.args else None, "reason", None), NewConnectionError)
            result = (
                Result(Outcome.RETRYABLE, code="connect") if never_sent else Result(Outcome.UNKNOWN, code="timeout")
            )
        except requests.Timeout:
            result = Result(Outcome.UNKNOWN, code="timeout")
        except requests.RequestException:
            result = Result(Outcome.UNKNOWN, code="transport")
        else:
            result = _answered(client, response)
        return _reported(result)

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
        """`send()` on the provider loop, through this process's aiohttp session."""
        self.require()
        try:
            client = self.client()
        except ValueError:
            return _reported(Result(Outcome.PERMANENT, code="invalid_service_account"))
        payload = _payload(client, token, title, body, data, collapse_id, ttl_seconds, critical)
        try:
            if client.credentials.valid:
                headers = client.request_headers()
            else:  # a token request is blocking HTTP: off the loop, once for every waiting send
                headers = await asyncio.to_thread(client.request_headers)
            async with self._http().post(client.fcm_end_point, data=payload, headers=headers) as response:
                answer = _Answer(response.status, await response.read(), response.headers)
        except google.auth.exceptions.RefreshError as error:
            result = Result(Outcome.PERMANENT, code=_oauth_error(error))
        except google.auth.exceptions.TransportError:
            result = Result(Outcome.RETRYABLE, code="token_unavailable")
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError):  # nothing was sent
            result = Result(Outcome.RETRYABLE, code="connect")
        except (TimeoutError, aiohttp.ClientError):
            result = Result(Outcome.UNKNOWN, code="timeout")  # after the request went out: FCM may have it
        else:
            result = _answered(client, answer)
        return _reported(result)

    def _http(self) -> aiohttp.ClientSession:
        """This process's session, built on the provider loop (it is bound to it). No retries."""
        if self._async is None or self._async[0] != os.getpid():
            seconds = settings.PROVIDER_TIMEOUT_SECONDS
            # connect covers the wait for a free pooled connection too: a timeout there sent nothing.
            timeout = aiohttp.ClientTimeout(total=None, connect=seconds, sock_read=seconds)
            connector = aiohttp.TCPConnector(limit=settings.PROVIDER_MAX_CONNECTIONS)
            self._async = (os.getpid(), aio.closing(aiohttp.ClientSession(connector=connector, timeout=timeout)))
        return self._async[1]

    def probe(self) -> Health:
        """Healthy when an access token can be had (the cached one counts)."""
        if not self.configured():
            return Health(self.name, False, "not_configured")
        try:
            self.client().access_token()
        except ValueError:
            return Health(self.name, False, "invalid_service_account")
        except google.auth.exceptions.RefreshError as error:
            return Health(self.name, False, _oauth_error(error))
        except google.auth.exceptions.TransportError:
            return Health(self.name, False, "token_unavailable")
        return Health(self.name, True)


def _service_account() -> str:
    """The key file set through the keyring (`manage.py secrets_set fcm_service_account`), else FCM_SERVICE_ACCOUNT_JSON."""
    return secrets.credential("fcm_service_account") or settings.FCM_SERVICE_ACCOUNT_JSON


def _payload(client: _Client, token, title, body, data, collapse_id, ttl_seconds, critical) -> bytes:
    return client.parse_payload(
        fcm_token=token,
        notification_title=title,
        notification_body=body,
        data_payload={str(key): str(value) for key, value in (data or {}).items()} or None,
        android_config=_android(collapse_id, ttl_seconds, critical),
        webpush_config=_webpush(collapse_id, ttl_seconds, critical),
        apns_config=_apns(collapse_id, ttl_seconds, critical),
    )


class _Answer:
    """An aiohttp answer, read, with the few things `_result` and pyfcm ask of a response."""

    def __init__(self, status: int, body: bytes, headers):
        self.status_code = status
        self.body = body
        self.headers = headers

    def json(self):
        return json.loads(self.body)


def _answered(client: _Client, response) -> Result:
    """The Result of an answer (requests' or aiohttp's); a 401 drops the access token."""
    result = _result(response)
    if response.status_code == 401:
        client.forget_access_token()
        if client._is_access_token_expired(response):  # pyfcm's own check of the 401's reason
            result = Result(Outcome.RETRYABLE, code="ACCESS_TOKEN_EXPIRED", details=result.details)
    return result


def _android(collapse_id: str, ttl_seconds: int, critical: bool) -> dict:
    config = {"priority": "HIGH" if critical else "NORMAL", "ttl": f"{ttl_seconds}s"}
    if collapse_id:
        config["collapse_key"] = collapse_id
    return config


def _webpush(collapse_id: str, ttl_seconds: int, critical: bool) -> dict:
    headers = {"TTL": str(ttl_seconds), "Urgency": "high" if critical else "normal"}
    if WEBPUSH_TOPIC.fullmatch(collapse_id):
        headers["Topic"] = collapse_id
    return {"headers": headers}


def _apns(collapse_id: str, ttl_seconds: int, critical: bool) -> dict:
    # iOS apps registered with FCM: the collapse id keeps a resend from showing twice.
    headers = {"apns-priority": "10" if critical else "5", "apns-expiration": str(int(time.time()) + ttl_seconds)}
    if collapse_id and len(collapse_id.encode()) <= 64:
        headers["apns-collapse-id"] = collapse_id
    return {"headers": headers}


def _result(response: requests.Response | _Answer) -> Result:
    """Map FCM's answer by its FcmError code, else its google.rpc status, else the HTTP status."""
    status = response.status_code
    answer = _json(response)
    if status == 200:
        return Result(Outcome.SENT, message_id=str(answer.get("name", "")))
    error = answer.get("error") if isinstance(answer.get("error"), dict) else {}
    details = [detail for detail in error.get("details") or [] if isinstance(detail, dict)]
    fcm_code = next((d.get("errorCode") for d in details if str(d.get("@type", "")).endswith(".FcmError")), None)
    code = str(fcm_code or error.get("status") or f"http_{status}")
    info = {"http_status": status}
    if code in DEAD_TOKEN_CODES:
        return Result(Outcome.INVALID_RECIPIENT, code=code, details=info)
    if code == "INVALID_ARGUMENT":
        outcome = Outcome.INVALID_RECIPIENT if _blames_the_token(error, details) else Outcome.PERMANENT
        return Result(outcome, code=code, details=info)
    if code in RETRYABLE_CODES or status in RETRYABLE_STATUSES:
        retry_after = _retry_after(response.headers.get("Retry-After"))
        return Result(Outcome.RETRYABLE, code=code, retry_after_seconds=retry_after, details=info)
    return Result(Outcome.PERMANENT, code=code, details=info)


def _blames_the_token(error: dict, details: list[dict]) -> bool:
    """Whether an INVALID_ARGUMENT names the registration token rather than the payload."""
    fields = {
        violation.get("field")
        for detail in details
        for violation in detail.get("fieldViolations") or []
        if isinstance(violation, dict)
    }
    return "message.token" in fields or "registration token" in str(error.get("message", "")).lower()


def _retry_after(value: str | None) -> int | None:
    """Seconds from a Retry-After header, given in seconds or as an HTTP date."""
    if not value:
        return None
    if value.strip().isdigit():
        return int(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0, math.ceil((when - datetime.now(UTC)).total_seconds()))


def _json(response: requests.Response | _Answer) -> dict:
    try:
        answer = response.json()
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}


def _oauth_error(error: google.auth.exceptions.RefreshError) -> str:
    """The OAuth2 error code the token endpoint gave (e.g. invalid_grant), never its description."""
    response_data = error.args[1] if len(error.args) > 1 else None
    if isinstance(response_data, dict) and isinstance(response_data.get("error"), str):
        return response_data["error"]
    return "token_refresh_failed"


def _reported(result: Result) -> Result:
    if not result.ok:
        logger.warning(
            "fcm send not delivered",
            extra={"provider": "fcm", "outcome": result.outcome.value, "code": result.code, **result.details},
        )
    return result
