"""Write the web login's secrets into the database as the owner: the binding key and samia_web's password.

`migrate` runs `sync()` at its end (RlsConfig.ready), so every deploy, `make migrate` and every test
database carry the configured key; rls_check fails while the stored key differs from RLS_BINDING_KEY.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from django.conf import settings
from django.db import connections

KEY_TABLE = "samia_private.binding_key"
SCRAM_ITERATIONS = 4096


def scram_verifier(password: str) -> str:
    """Return the SCRAM-SHA-256 verifier of `password`, so the clear text never reaches the server."""
    salt = os.urandom(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, SCRAM_ITERATIONS)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    encoded = [base64.b64encode(part).decode() for part in (salt, stored_key, server_key)]
    return f"SCRAM-SHA-256${SCRAM_ITERATIONS}:{encoded[0]}${encoded[1]}:{encoded[2]}"


def stored_key(using: str = "default") -> bytes | None:
    """Return the binding key Postgres verifies with, or None when none is stored (or not migrated)."""
    with connections[using].cursor() as cursor:
        cursor.execute(f"SELECT to_regclass('{KEY_TABLE}') IS NOT NULL")
        if not cursor.fetchone()[0]:
            return None
        cursor.execute(f"SELECT key FROM {KEY_TABLE}")
        row = cursor.fetchone()
    return bytes(row[0]) if row else None


def sync(using: str = "default", **_signal) -> None:
    """Store RLS_BINDING_KEY, and the password of DATABASE_WEB_URL when it has one."""
    with connections[using].cursor() as cursor:
        cursor.execute(f"SELECT to_regclass('{KEY_TABLE}') IS NOT NULL")
        if not cursor.fetchone()[0]:
            return  # migrated back below rls 0002
        key = settings.RLS_BINDING_KEY.encode()
        if stored_key(using) != key:
            cursor.execute(
                f"INSERT INTO {KEY_TABLE} (id, key) VALUES (1, %s) ON CONFLICT (id) DO UPDATE SET key = EXCLUDED.key",
                [key],
            )
        if settings.DATABASE_WEB["PASSWORD"]:
            # A utility statement takes no parameters: the verifier is quoted by Postgres's own format().
            cursor.execute(
                "SELECT format('ALTER ROLE %%I PASSWORD %%L', %s::text, %s::text)",
                [settings.DATABASE_WEB["USER"], scram_verifier(settings.DATABASE_WEB["PASSWORD"])],
            )
            cursor.execute(cursor.fetchone()[0])
