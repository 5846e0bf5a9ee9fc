"""Private files behind URLs that expire: `signed_url` issues one, `signed_url_verify` checks a local one.

The private storage is `storages["private"]` (settings: `STORAGE_BACKEND`).
- local: a directory. A URL is `/files/<token>`, the token `<kid>.<payload>.<signature>`: the
  payload (base64url JSON: key, user id, expiry) signed with HMAC-SHA256 under the key `kid`
  names (`STORAGE_URL_KEYS`, new URLs use `STORAGE_URL_KEY_ID`), so keys rotate while URLs
  already issued stay valid until they expire. `GET /files/<token>` streams the file.
- s3: a private bucket through django-storages' `S3Storage` (`samia.storage.s3.KeyringS3Storage`:
  signed with the keyring's `s3_access_key`); a URL is boto3's presigned GET, which S3 itself checks
  (it cannot carry the user id).
TTL: `STORAGE_URL_TTL_SECONDS` (300) by default, `MAX_TTL_SECONDS` (900) at most.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.files.storage import Storage, storages
from django.utils import timezone

from samia.exceptions import DomainError

MAX_TTL_SECONDS = 900
PRIVATE = "private"


class SignatureInvalid(Exception):
    """The token is malformed, forged, expired, signed with a retired key or someone else's; `code` says which."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


class Gone(DomainError):
    """The file was removed; URLs issued before the removal lead nowhere (410)."""

    code = "gone"
    status = 410
    default_message = "This file was removed."


@dataclass(frozen=True)
class SignedUrl:
    url: str
    expires_at: dt.datetime


@dataclass(frozen=True)
class Grant:
    """What a verified local token allows: `user_id` may read `key` until `expires_at`."""

    key: str
    user_id: int | None
    expires_at: dt.datetime
    content_type: str = ""


def url_keys() -> tuple[dict[str, str], str]:
    """Return the URL signing keys by key id, and the id that signs new URLs (the one place keys are read).

    The keyring's `storage_urls` (M28): its active version signs, active and previous verify. The keys
    still listed in STORAGE_URL_KEYS verify the URLs they made until they are removed from there or
    retired in the keyring (the environment's key is version 1: retiring it must end it).
    """
    from samia import secrets

    retired = secrets.retired("storage_urls")
    keys = {kid: value for kid, value in settings.STORAGE_URL_KEYS.items() if kid not in retired}
    keys.update({key.key_id: key.value.decode() for key in secrets.verifying("storage_urls")})
    return keys, secrets.current("storage_urls").key_id


def secrets_find(kid: str) -> str | None:
    from samia import secrets

    key = secrets.find("storage_urls", kid)
    return key.value.decode() if key else None


def private_storage() -> Storage:
    return storages[PRIVATE]


def is_s3(storage: Storage) -> bool:
    from storages.backends.s3 import S3Storage

    return isinstance(storage, S3Storage)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(kid: str, payload: str) -> str:
    secret = url_keys()[0].get(kid)
    if not secret and (fresh := secrets_find(kid)):  # made by another process's rotation a moment ago
        secret = fresh
    if not secret:
        raise SignatureInvalid("unknown_key")
    return _b64(hmac.new(secret.encode(), f"{kid}.{payload}".encode(), hashlib.sha256).digest())


def _ttl(ttl_seconds: int | None) -> int:
    ttl = settings.STORAGE_URL_TTL_SECONDS if ttl_seconds is None else ttl_seconds
    if not 1 <= ttl <= MAX_TTL_SECONDS:
        raise ValueError(f"a signed URL lives 1 to {MAX_TTL_SECONDS} seconds")
    return ttl


def signed_url(*, key: str, ttl_seconds: int | None = None, user_id: int | None, content_type: str = "") -> SignedUrl:
    """Return a URL through which `user_id` may read `key` for `ttl_seconds`, and when it expires.

    `content_type` (measured when the file was stored) is what the download answers with.
    """
    ttl = _ttl(ttl_seconds)
    # Whole seconds: the token and S3 both count in seconds, so expires_at is exactly what they enforce.
    now = timezone.now().replace(microsecond=0)
    expires_at = now + dt.timedelta(seconds=ttl)
    storage = private_storage()
    if is_s3(storage):
        params = {"Bucket": storage.bucket_name, "Key": storage._normalize_name(key)}
        if content_type:
            params["ResponseContentType"] = content_type
        url = storage.connection.meta.client.generate_presigned_url("get_object", Params=params, ExpiresIn=ttl)
        return SignedUrl(url, expires_at)
    kid = url_keys()[1]
    data = {"k": key, "u": user_id, "e": int(expires_at.timestamp())}
    if content_type:
        data["t"] = content_type
    payload = _b64(json.dumps(data, separators=(",", ":")).encode())
    token = f"{kid}.{payload}.{_mac(kid, payload)}"
    return SignedUrl(f"{settings.PUBLIC_BASE_URL.rstrip('/')}/files/{token}", expires_at)


def signed_url_verify(token: str, *, now: dt.datetime | None = None) -> Grant:
    """Return what a local token grants; raise SignatureInvalid when it is malformed, forged or expired."""
    parts = token.split(".")
    if len(parts) != 3:
        raise SignatureInvalid("malformed")
    kid, payload, signature = parts
    # Bytes: compare_digest refuses non-ASCII str, and a URL path may carry any character.
    if not hmac.compare_digest(_mac(kid, payload).encode(), signature.encode()):
        raise SignatureInvalid("bad_signature")
    try:
        data = json.loads(_unb64(payload))
        key, user_id, expires, content_type = str(data["k"]), data["u"], int(data["e"]), str(data.get("t", ""))
        if user_id is not None:
            user_id = int(user_id)
    except (ValueError, KeyError, TypeError, AttributeError):
        raise SignatureInvalid("malformed") from None
    if (now or timezone.now()).timestamp() >= expires:
        raise SignatureInvalid("expired")
    return Grant(key, user_id, dt.datetime.fromtimestamp(expires, dt.UTC), content_type)


# Apps that store files here say whether a key was removed (checked again at each download): the
# kernel cannot read their tables. Each checker takes a key and answers True when it is gone.
_REMOVED_CHECKS: list[Callable[[str], bool]] = []


def removed_check_register(check: Callable[[str], bool]) -> None:
    """Register `check(key) -> bool` (call from an AppConfig.ready)."""
    if check not in _REMOVED_CHECKS:
        _REMOVED_CHECKS.append(check)


def file_open(*, token: str, user_id: int | None):
    """Open the file a valid token names, and its content type; raise SignatureInvalid or Gone.

    `user_id` is the caller's account, if the request has one: a token issued to someone else is
    refused. Without one the signature is the authority (a media player sends no bearer token).
    """
    grant = signed_url_verify(token)
    if user_id is not None and grant.user_id != user_id:
        raise SignatureInvalid("other_user")
    if any(check(grant.key) for check in _REMOVED_CHECKS):
        raise Gone()
    storage = private_storage()
    try:
        return storage.open(grant.key, "rb"), grant.content_type
    except FileNotFoundError:
        raise Gone() from None
