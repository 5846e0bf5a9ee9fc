"""Machine translation through DeepL, with the official `deepl` client (1.x).

One `send()` is one request: the client's own retries (up to five, sleeping on 429 and 5xx) are
switched off, and its connect/read timeout is PROVIDER_TIMEOUT_SECONDS; retrying belongs to the
caller. The client does not keep response headers, so the session's adapter reads Retry-After.
The client logs texts at DEBUG and URLs at INFO: its logger is set to WARNING (settings.LOGGING).
"""

from __future__ import annotations

import logging
import math
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import deepl
import requests
from deepl import http_client
from django.conf import settings
from requests.adapters import HTTPAdapter

from samia import secrets
from samia.providers.base import Health, Outcome, Provider, Result

logger = logging.getLogger(__name__)

# DeepL's own codes for the target languages the project speaks ("EN" alone is deprecated as a target).
TARGETS = {"ar": "AR", "en": "EN-US"}
SOURCES = {"ar": "AR", "en": "EN"}
# Texts per request: the API accepts at most 50.
TEXTS_PER_REQUEST = 50
# When DeepL gives no Retry-After: a 429 clears within a minute, a spent quota (456) not before the next hour.
DEFAULT_RETRY_AFTER = {"rate_limited": 60, "quota_exceeded": 3600}


@dataclass(frozen=True)
class Translated(Result):
    """A translation result: the texts in the order sent, and the characters DeepL billed."""

    texts: tuple[str, ...] = ()
    characters: int = 0


class _HeaderReader(HTTPAdapter):
    """requests' adapter without urllib3 retries, keeping the last Retry-After (per thread) that the client drops."""

    def __init__(self, seen: threading.local):
        super().__init__(max_retries=0)
        self.seen = seen

    def send(self, request, *args, **kwargs):
        response = super().send(request, *args, **kwargs)
        self.seen.retry_after = response.headers.get("Retry-After")
        return response


class DeepLProvider(Provider):
    """DeepL's text translation API (`/v2/translate`), XML tag handling for masked spans."""

    name = "translation"

    def __init__(self):
        self._translators: dict[tuple[str, str], deepl.Translator] = {}
        self._lock = threading.Lock()
        self._seen = threading.local()

    def configured(self) -> bool:
        return bool(_auth_key())

    def translator(self) -> deepl.Translator:
        """Build the client once per key and server (a rotated key gets a client of its own)."""
        key = (_auth_key(), settings.DEEPL_SERVER_URL)
        with self._lock:
            if key not in self._translators:
                http_client.max_network_retries = 0
                http_client.min_connection_timeout = settings.PROVIDER_TIMEOUT_SECONDS
                translator = deepl.Translator(
                    key[0], server_url=settings.DEEPL_SERVER_URL or None, send_platform_info=False
                )
                adapter = _HeaderReader(self._seen)
                translator._client._session.mount("http://", adapter)
                translator._client._session.mount("https://", adapter)
                self._translators = {key: translator}  # drop the client of an older key
            return self._translators[key]

    def send(self, *, texts: list[str], source: str, target: str, ignore_tags: tuple[str, ...] = ("x",)) -> Result:
        """Translate `texts` (at most 50, masked as XML) from `source` to `target` (ar or en) in one request."""
        self.require()
        if not texts or len(texts) > TEXTS_PER_REQUEST:
            raise ValueError(f"send 1 to {TEXTS_PER_REQUEST} texts per request")
        self._seen.retry_after = None
        try:
            answers = self.translator().translate_text(
                texts,
                source_lang=SOURCES[source],
                target_lang=TARGETS[target],
                tag_handling="xml",
                ignore_tags=list(ignore_tags),
            )
        except deepl.QuotaExceededException:
            result = self._retryable("quota_exceeded")
        except deepl.TooManyRequestsException:
            result = self._retryable("rate_limited")
        except deepl.AuthorizationException:
            result = Result(Outcome.PERMANENT, code="unauthorized")
        except deepl.ConnectionException as error:
            result = _connection_failure(error)
        except deepl.DeepLException as error:
            status = error.http_status_code or 0
            if status >= 500:
                result = self._retryable(f"http_{status}")
            elif status:
                result = Result(Outcome.PERMANENT, code=f"http_{status}")
            else:  # an answer the client could not read: DeepL may have translated (and billed) it
                result = Result(Outcome.UNKNOWN, code="unreadable_answer")
        else:
            if len(answers) != len(texts):
                return _reported(Result(Outcome.UNKNOWN, code="answer_count_mismatch"))
            return Translated(
                Outcome.SENT,
                texts=tuple(answer.text for answer in answers),
                characters=sum(answer.billed_characters or 0 for answer in answers),
            )
        return _reported(result)

    def _retryable(self, code: str) -> Result:
        seconds = _retry_after(self._seen.retry_after)
        retry_after = seconds if seconds is not None else DEFAULT_RETRY_AFTER.get(code, 60)
        return Result(Outcome.RETRYABLE, code=code, retry_after_seconds=retry_after)

    def probe(self) -> Health:
        """Healthy when DeepL answers the usage query and the character quota is not spent."""
        if not self.configured():
            return Health(self.name, False, "not_configured")
        try:
            usage = self.translator().get_usage()
        except deepl.AuthorizationException:
            return Health(self.name, False, "unauthorized")
        except deepl.ConnectionException:
            return Health(self.name, False, "connect")
        except deepl.DeepLException as error:
            return Health(self.name, False, f"http_{error.http_status_code or 0}")
        if usage.any_limit_reached:
            return Health(self.name, False, "quota_exceeded")
        return Health(self.name, True)


def _auth_key() -> str:
    """The key set through the keyring (`manage.py secrets_set deepl_auth_key`), else DEEPL_AUTH_KEY."""
    return secrets.credential("deepl_auth_key") or settings.DEEPL_AUTH_KEY


def _connection_failure(error: deepl.ConnectionException) -> Result:
    """Refused or timed out while connecting: never sent. Dropped or timed out later: maybe translated."""
    cause = error.__cause__
    if isinstance(cause, requests.ConnectTimeout | requests.exceptions.SSLError):
        return Result(Outcome.RETRYABLE, code="connect")
    if isinstance(cause, requests.ConnectionError) and "NewConnectionError" in repr(cause.args[:1]):
        return Result(Outcome.RETRYABLE, code="connect")
    return Result(Outcome.UNKNOWN, code="timeout" if isinstance(cause, requests.Timeout) else "transport")


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
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    return max(0, math.ceil((when - datetime.now(UTC)).total_seconds()))


def _reported(result: Result) -> Result:
    logger.warning(
        "deepl translation not done",
        extra={"provider": "translation", "outcome": result.outcome.value, "code": result.code},
    )
    return result
