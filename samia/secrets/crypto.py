"""Encryption under the master keys (MultiFernet) and the keyed fingerprint of a value."""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

from samia.exceptions import Unavailable


class SecretsUnavailable(Unavailable):
    """No master key is configured (SECRETS_MASTER_KEYS), or none opens the keyring."""

    code = "secrets_unavailable"
    default_message = "The keyring is unavailable: no master key is configured."


def configured() -> bool:
    return bool(settings.SECRETS_MASTER_KEYS)


def _fernet() -> MultiFernet:
    if not configured():
        raise SecretsUnavailable()
    return _multi(tuple(settings.SECRETS_MASTER_KEYS))


@lru_cache(maxsize=4)
def _multi(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


def encrypt(value: bytes) -> str:
    """Encrypt under the first master key."""
    return _fernet().encrypt(value).decode()


def decrypt(ciphertext: str) -> bytes:
    """Decrypt under whichever master key encrypted it; SecretsUnavailable when none does."""
    try:
        return _fernet().decrypt(ciphertext.encode())
    except InvalidToken:
        raise SecretsUnavailable("No configured master key opens the keyring.") from None


def rewrap(ciphertext: str) -> str:
    """Re-encrypt under the first master key (after a new one was put first)."""
    try:
        return _fernet().rotate(ciphertext.encode()).decode()
    except InvalidToken:
        raise SecretsUnavailable("No configured master key opens the keyring.") from None


def fingerprint(name: str, value: bytes) -> str:
    """16 hex digits of HMAC-SHA256 keyed by the first master key: says which value, reveals nothing."""
    key = settings.SECRETS_MASTER_KEYS[0].encode() if configured() else b"unkeyed"
    return hmac.new(key, name.encode() + b"\0" + value, hashlib.sha256).hexdigest()[:16]
