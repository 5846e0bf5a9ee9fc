"""Ed25519 signatures in minisign's file formats, so auditors verify with the stock `minisign -V`.

Public key file:  untrusted comment line, then base64("Ed" || key id (8 bytes) || public key (32)).
Signature file:   untrusted comment line, base64("ED" || key id || Ed25519(BLAKE2b-512(data))),
                  "trusted comment: ..." line, base64(Ed25519(signature || trusted comment)).
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

PUBLIC_KEY_ALGORITHM = b"Ed"
PREHASHED_ALGORITHM = b"ED"


class SigningUnavailable(Exception):
    """No signing key is configured."""


@dataclass(frozen=True)
class SigningKey:
    key_id: bytes  # 8 bytes, as minisign stores it
    private: Ed25519PrivateKey

    @property
    def key_id_hex(self) -> str:
        """The key id as minisign prints it (the 8 bytes read as a little-endian integer)."""
        return f"{int.from_bytes(self.key_id, 'little'):016X}"

    @classmethod
    def from_config(cls, *, seed_b64: str, key_id_hex: str) -> SigningKey:
        if not seed_b64 or not key_id_hex:
            raise SigningUnavailable("AUDIT_SIGNING_KEY and AUDIT_SIGNING_KEY_ID are not configured")
        seed = base64.b64decode(seed_b64)
        if len(seed) != 32 or len(key_id_hex) != 16:
            raise SigningUnavailable("AUDIT_SIGNING_KEY must be 32 bytes (base64) and its id 16 hex digits")
        return cls(int(key_id_hex, 16).to_bytes(8, "little"), Ed25519PrivateKey.from_private_bytes(seed))

    def public_bytes(self) -> bytes:
        return self.private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def generate() -> tuple[str, str]:
    """Return a new (base64 seed, key id hex) pair for AUDIT_SIGNING_KEY and AUDIT_SIGNING_KEY_ID."""
    seed = os.urandom(32)
    key_id = os.urandom(8)
    return base64.b64encode(seed).decode(), f"{int.from_bytes(key_id, 'little'):016X}"


def public_key_text(key: SigningKey) -> str:
    """The public key in minisign's .pub format."""
    blob = base64.b64encode(PUBLIC_KEY_ALGORITHM + key.key_id + key.public_bytes()).decode()
    return f"untrusted comment: minisign public key {key.key_id_hex}\n{blob}\n"


def sign(data: bytes, key: SigningKey, *, trusted_comment: str) -> str:
    """Return a detached minisign signature (prehashed) of `data`."""
    if "\n" in trusted_comment or "\r" in trusted_comment:
        raise ValueError("the trusted comment is one line")
    signature = key.private.sign(hashlib.blake2b(data, digest_size=64).digest())
    global_signature = key.private.sign(signature + trusted_comment.encode())
    return (
        f"untrusted comment: signature from samia audit key {key.key_id_hex}\n"
        f"{base64.b64encode(PREHASHED_ALGORITHM + key.key_id + signature).decode()}\n"
        f"trusted comment: {trusted_comment}\n"
        f"{base64.b64encode(global_signature).decode()}\n"
    )


def _id_hex(key_id: bytes) -> str:
    return f"{int.from_bytes(key_id, 'little'):016X}"


def _public_blob(public_text: str) -> bytes:
    public_lines = [line for line in public_text.splitlines() if line and not line.startswith("untrusted comment:")]
    try:
        blob = base64.b64decode(public_lines[0], validate=True)
    except (IndexError, ValueError):
        blob = b""
    if blob[:2] != PUBLIC_KEY_ALGORITHM or len(blob) != 42:
        raise ValueError("not a minisign Ed25519 public key")
    return blob


def public_key_id(public_text: str) -> str:
    """Return the key id of a minisign .pub file, as minisign prints it; ValueError if it is not one."""
    return _id_hex(_public_blob(public_text)[2:10])


def verify(data: bytes, signature_text: str, public_text: str) -> str:
    """Check a minisign signature of `data`; return the trusted comment, or raise ValueError."""
    blob = _public_blob(public_text)
    key_id, public = blob[2:10], Ed25519PublicKey.from_public_bytes(blob[10:])
    lines = signature_text.splitlines()
    if len(lines) < 4 or not lines[2].startswith("trusted comment: "):
        raise ValueError("not a minisign signature file")
    signature_blob = base64.b64decode(lines[1])
    algorithm, signed_key_id, signature = signature_blob[:2], signature_blob[2:10], signature_blob[10:]
    if signed_key_id != key_id:
        raise ValueError("signed with another key")
    message = hashlib.blake2b(data, digest_size=64).digest() if algorithm == PREHASHED_ALGORITHM else data
    trusted_comment = lines[2][len("trusted comment: ") :]
    try:
        public.verify(signature, message)
        public.verify(base64.b64decode(lines[3]), signature + trusted_comment.encode())
    except InvalidSignature:
        raise ValueError("the signature does not verify") from None
    return trusted_comment


def configured_key() -> SigningKey:
    """The active audit signing key: the keyring's `audit_signing` (version 1 is AUDIT_SIGNING_KEY)."""
    from samia import secrets

    try:
        key = secrets.current("audit_signing")
    except secrets.SecretMissing:
        raise SigningUnavailable("AUDIT_SIGNING_KEY and AUDIT_SIGNING_KEY_ID are not configured") from None
    return _from_keyring(key)


def _from_keyring(key) -> SigningKey:
    return SigningKey.from_config(seed_b64=base64.b64encode(key.value).decode(), key_id_hex=key.key_id)


def published_keys() -> dict[str, SigningKey]:
    """Every audit signing key that ever signed, by key id (retired ones too): their public halves stay published."""
    from samia import secrets

    return {key.key_id: _from_keyring(key) for key in secrets.published("audit_signing")}


def trusted_public_key(path=None) -> tuple[str, str]:
    """Return the public key to verify against and where it came from: `path` (--public-key), else the
    published key (AUDIT_PUBLIC_KEY), else the configured signing key's public half. Never a key that
    came with what is being verified; SigningUnavailable when there is none.

    A `path` whose key id is not the published or configured one is refused: it is not ours.
    """
    from django.conf import settings

    ours = None
    if settings.AUDIT_PUBLIC_KEY:
        with open(settings.AUDIT_PUBLIC_KEY, encoding="utf-8") as handle:
            ours = (handle.read(), f"the published key {settings.AUDIT_PUBLIC_KEY}")
    elif settings.AUDIT_SIGNING_KEY and settings.AUDIT_SIGNING_KEY_ID:
        ours = (public_key_text(configured_key()), "the configured key AUDIT_SIGNING_KEY")
    if path is None:
        if ours is None:
            raise SigningUnavailable(
                "no trusted public key: pass --public-key with the published key (GET /admin/audit/public-key), "
                "or configure AUDIT_PUBLIC_KEY or AUDIT_SIGNING_KEY"
            )
        return ours
    with open(path, encoding="utf-8") as handle:
        given = handle.read()
    if (
        ours is not None
        and public_key_id(given) != public_key_id(ours[0])
        and public_key_id(given) not in published_keys()
    ):
        raise ValueError(f"key id {public_key_id(given)} is not ours ({public_key_id(ours[0])})")
    return given, f"the key in {path}"
