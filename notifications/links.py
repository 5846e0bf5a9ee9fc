"""Signed tracking links: open and click hits that nobody can forge, stretch or replay.

A link token is `<kid>.<payload>.<signature>`: the payload (base64url JSON: send id, kind,
expiry) is signed with HMAC-SHA256 under the key `kid` names, so keys can rotate while old
links stay verifiable. A valid link answers every tap; the inbox counts one hit per token, and
hits that are not the recipient's own (HEAD, prefetches, link previews, scanners) are not counted.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json

from crawlerdetect import CrawlerDetect
from django.conf import settings
from django.utils import timezone

from samia import secrets

KINDS = ("open", "click")
# Headers with which browsers mark speculative fetches (Fetch's Sec-Purpose, Chrome's Purpose,
# Safari's X-Purpose, Firefox's X-Moz).
PREFETCH = (("Sec-Purpose", "prefetch"), ("Purpose", "prefetch"), ("X-Purpose", "preview"), ("X-Moz", "prefetch"))


class LinkError(Exception):
    """The token is unsigned, forged, expired or malformed; `code` says which."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _digest(secret: bytes, kid: str, payload: str) -> str:
    return _b64(hmac.new(secret, f"{kid}.{payload}".encode(), hashlib.sha256).digest())


def _mac(kid: str, payload: str) -> str:
    # The keyring's active and previous versions (M28); the other keys still listed in
    # NOTIFICATIONS_LINK_KEYS verify the links they made until they are removed from there or retired.
    key = secrets.find("tracking_links", kid)
    if key:
        secret = key.value
    elif kid in secrets.retired("tracking_links"):  # the environment's version 1, retired: it ends here too
        secret = b""
    else:
        secret = settings.NOTIFICATIONS_LINK_KEYS.get(kid, "").encode()
    if not secret:
        raise LinkError("unknown_key")
    return _digest(secret, kid, payload)


def sign(send_id: int, kind: str, *, target: str = "", expires_at: dt.datetime | None = None) -> str:
    """A token for one open or click of one send; a click may carry where it leads (signed too)."""
    if kind not in KINDS:
        raise ValueError(f"kind is one of {KINDS}")
    expires_at = expires_at or timezone.now() + dt.timedelta(days=settings.NOTIFICATIONS_LINK_TTL_DAYS)
    # The active version signs with the value it carries: no second keyring lookup by key id
    # (two per push, on the dispatcher's thread).
    key = secrets.current("tracking_links")
    data = {"s": send_id, "k": kind, "e": int(expires_at.timestamp())}
    if target:
        data["u"] = target
    payload = _b64(json.dumps(data, separators=(",", ":")).encode())
    return f"{key.key_id}.{payload}.{_digest(key.value, key.key_id, payload)}"


def verify(token: str, kind: str, *, now: dt.datetime | None = None) -> tuple[int, str]:
    """Return (send id, target) of a valid `kind` token; raise LinkError otherwise."""
    parts = token.split(".")
    if len(parts) != 3:
        raise LinkError("malformed")
    kid, payload, signature = parts
    # Bytes: compare_digest refuses non-ASCII str, and a URL path may carry any character.
    if not hmac.compare_digest(_mac(kid, payload).encode(), signature.encode()):
        raise LinkError("bad_signature")
    try:
        data = json.loads(_unb64(payload))
        send_id, token_kind, expires = int(data["s"]), data["k"], int(data["e"])
        target = str(data.get("u", ""))
    except (ValueError, KeyError, TypeError, AttributeError):
        raise LinkError("malformed") from None
    if token_kind != kind:
        raise LinkError("wrong_kind")
    if (now or timezone.now()).timestamp() > expires:
        raise LinkError("expired")
    return send_id, target


def counted(kind: str, method: str, headers) -> bool:
    """Whether a verified hit counts: not a HEAD or a prefetch, and for a click not a preview bot or scanner.

    Link previews (WhatsApp, iMessage, Slack) and mail or SMS scanners fetch a click link before
    the person does; they get the same answer, uncounted. Opens are pinged by the app, whose HTTP
    client (okhttp, Dart) a crawler list would mistake for a bot, so only the method and headers apply.
    """
    if method != "GET" or any(value in headers.get(name, "").lower() for name, value in PREFETCH):
        return False
    return kind == "open" or not CrawlerDetect().isCrawler(headers.get("User-Agent", ""))


def url(send_id: int, kind: str, *, target: str = "") -> str:
    return f"{settings.PUBLIC_BASE_URL.rstrip('/')}/t/{kind}/{sign(send_id, kind, target=target)}"
