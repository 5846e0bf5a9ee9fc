"""Structured JSON logs with a request id, and a filter that scrubs personal data and secrets."""

from __future__ import annotations

import contextlib
import contextvars
import logging
import re
import time
import unicodedata
import uuid

from pythonjsonlogger.json import JsonFormatter as _BaseJsonFormatter

_request_id = contextvars.ContextVar("request_id", default=None)
_actor = contextvars.ContextVar("actor", default=(None, None))

logger = logging.getLogger("samia.request")

REDACTED = "[redacted]"
SENSITIVE_KEY = re.compile(r"token|secret|passw|otp|authorization|api[_-]?key|credential|signature|cookie", re.I)
_PATTERNS = [
    (re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), "[jwt]"),
    (re.compile(r"(?i)\bbearer\s+\S+"), "Bearer [redacted]"),
    (re.compile(r"[A-Za-z0-9._%+-]+(?:@|%40)[A-Za-z0-9.-]+\.[A-Za-z]{2,}"), "[email]"),
    (re.compile(r"(?:\+|%2B|\b00)[1-9]\d{6,14}\b"), "[phone]"),
    (
        re.compile(
            r"(?i)\b([\w-]*(?:token|secret|passw\w*|otp|api[_-]?key|authorization)[\w-]*)"
            r"(\"?'?\s*[:=]\s*\"?'?)([^\s\"'&,;}]+)"
        ),
        r"\1\2" + REDACTED,
    ),
]
_STANDARD_ATTRS = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}


def current_request_id() -> str | None:
    return _request_id.get()


@contextlib.contextmanager
def continuing(request_id: str | None):
    """Within the block, log lines and audit entries carry `request_id`: a job doing a request's work
    (a queued campaign schedule) is found under the request that asked for it."""
    valid = request_id if isinstance(request_id, str) and _VALID_REQUEST_ID.fullmatch(request_id) else None
    token = _request_id.set(valid)
    try:
        yield
    finally:
        _request_id.reset(token)


# Text people publish (community comments) loses every contact detail and link, not only what a log
# line could carry. The text is first folded to plain characters (NFKC: fullwidth and mathematical
# digits become 0-9) and stripped of invisible format characters (zero-width spaces and joiners);
# then any run of 7 or more digits (Latin, Arabic-Indic U+0660-0669, Extended Arabic-Indic
# U+06F0-06F9) with up to 3 separating non-letters between them, emails, and web addresses with or
# without a scheme under any ending of 2-24 letters ("site[.]ai" included) go. Spelled-out
# obfuscation ("name at mail dot com") is left to moderation.
PUBLISHED_REMOVED = "[removed]"
_DIGIT = "[0-9\u0660-\u0669\u06f0-\u06f9]"
_DOT = r"(?:\.|\[\.\]|\(\.\)|\{\.\})"
_PUBLISHED_PATTERNS = [
    re.compile(rf"[\w.%+-]+(?:@|%40|\uff20|\[at\]|\(at\))[\w-]+(?:{_DOT}[\w-]+)+", re.IGNORECASE),
    re.compile(r"(?i)\b(?:https?|ftp)://\S+|\bwww\.\S+"),
    re.compile(rf"(?i)\b[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:{_DOT}[a-z0-9-]+)*{_DOT}[a-z]{{2,24}}\b(?:/\S*)?"),
    re.compile(rf"(?:\+|\b00)?\(?{_DIGIT}(?:[\W_]{{0,3}}{_DIGIT}){{6,}}"),
]


def _published_plain(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    return "".join(character for character in text if unicodedata.category(character) != "Cf")


def scrub_text(text: str, *, published: bool = False) -> str:
    """Replace emails, phone numbers, JWTs and key=secret pairs in free text.

    `published`: text others will read (a comment); emails, phone numbers in Latin or Arabic-Indic
    digits and links all become "[removed]".
    """
    if published:
        text = _published_plain(text)
        for pattern in _PUBLISHED_PATTERNS:
            text = pattern.sub(PUBLISHED_REMOVED, text)
        return text
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def scrub_value(value, key: str | None = None):
    """Scrub a logged value; anything under a sensitive key is redacted whole."""
    if key is not None and SENSITIVE_KEY.search(key):
        return REDACTED
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, dict):
        return {k: scrub_value(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [scrub_value(v) for v in value]
    return value


class ScrubFilter(logging.Filter):
    """Scrub the message, its arguments, extra fields and tracebacks of every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the record
            message = str(record.msg)
        record.msg = scrub_text(message)
        record.args = None
        for key in list(record.__dict__):
            if key not in _STANDARD_ATTRS:
                setattr(record, key, scrub_value(record.__dict__[key], key))
        if record.exc_info:
            record.exc_text = scrub_text(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        if record.exc_text:
            record.exc_text = scrub_text(record.exc_text)
        return True


class JsonFormatter(_BaseJsonFormatter):
    """One JSON object a line, with the request context of the current request."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("fmt", "%(levelname)s %(name)s %(message)s")
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger"})
        kwargs.setdefault("timestamp", "time")
        super().__init__(*args, **kwargs)

    def add_fields(self, log_record, record, message_dict):
        super().add_fields(log_record, record, message_dict)
        request_id = _request_id.get()
        if request_id and "request_id" not in log_record:
            log_record["request_id"] = request_id
        actor_id, role = _actor.get()
        if actor_id is not None and "actor_id" not in log_record:
            log_record["actor_id"] = actor_id
            log_record["role"] = role


# An incoming X-Request-ID is kept only as a short token of ASCII letters, digits and hyphens (8 to
# 64: a UUID is one), matched whole: `$` alone would let a trailing newline through.
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9-]{8,64}")


class RequestLogMiddleware:
    """Give each request an id (X-Request-ID) and log one line when it ends."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = incoming if _VALID_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        id_token = _request_id.set(request_id)
        actor_token = _actor.set((None, None))
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            identity = getattr(request, "rls_identity", None)
            actor = {"actor_id": identity.user_id, "role": identity.role} if identity and identity.user_id else {}
            match = getattr(request, "resolver_match", None)
            logger.info(
                "request",
                extra={
                    "request_id": request_id,
                    "method": request.method,
                    "route": match.route if match else None,
                    "status": response.status_code,
                    "latency_ms": round((time.perf_counter() - started) * 1000, 2),
                    **actor,
                },
            )
            response["X-Request-ID"] = request_id
            return response
        finally:
            _actor.reset(actor_token)
            _request_id.reset(id_token)


def bind_actor(user_id, role) -> None:
    """Attach the actor to log records for the rest of the request."""
    _actor.set((user_id, role))
