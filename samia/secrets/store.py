"""The keyring table, read and written on a connection of its own as the owner role.

Requests run as `samia_app`, which has no privilege here; the web server's login cannot even
become the owner. So every read and write of `secrets_secretversion` opens its own connection with
the owner's credentials (DATABASE_URL), outside any request transaction, and commits on its own.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import psycopg
from django.conf import settings
from django.db import connections

COLUMNS = (
    "name, version, key_id, ciphertext, fingerprint, status, created_at, activated_at, retires_at, from_environment"
)

# ---------------------------------------------------------------- reads
SELECT_LIVE = f"SELECT {COLUMNS} FROM secrets_secretversion WHERE status <> 'retired' ORDER BY name, version DESC"
SELECT_ALL = f"SELECT {COLUMNS} FROM secrets_secretversion ORDER BY name, version DESC"
SELECT_NAME = f"SELECT {COLUMNS} FROM secrets_secretversion WHERE name = %s ORDER BY version DESC"

# ---------------------------------------------------------------- writes
INSERT = """
    INSERT INTO secrets_secretversion
        (name, version, key_id, ciphertext, fingerprint, status, created_at, activated_at, retires_at,
         from_environment)
    VALUES (%(name)s::varchar,
            (SELECT coalesce(max(version), 0) + 1 FROM secrets_secretversion WHERE name = %(name)s::varchar),
            %(key_id)s, %(ciphertext)s, %(fingerprint)s, %(status)s::varchar, clock_timestamp(),
            CASE WHEN %(status)s::varchar = 'active' THEN clock_timestamp() END, NULL, false)
    RETURNING version
"""
# Version 1 from the environment: only while the name has no version at all (another process may race).
IMPORT = """
    INSERT INTO secrets_secretversion
        (name, version, key_id, ciphertext, fingerprint, status, created_at, activated_at, retires_at,
         from_environment)
    VALUES (%(name)s, 1, %(key_id)s, %(ciphertext)s, %(fingerprint)s, 'active', clock_timestamp(), clock_timestamp(),
            NULL, true)
    ON CONFLICT DO NOTHING
"""
# The active version steps down to previous, verifying until `retires_at`.
DEMOTE_ACTIVE = """
    UPDATE secrets_secretversion SET status = 'previous', retires_at = %(retires_at)s
    WHERE name = %(name)s AND status = 'active'
    RETURNING version, key_id, fingerprint
"""
ACTIVATE = """
    UPDATE secrets_secretversion SET status = 'active', activated_at = clock_timestamp()
    WHERE name = %(name)s AND version = %(version)s
"""
# Retired: nothing verifies with it; its ciphertext goes too, except audit_signing's (public keys stay published).
RETIRE_DUE = """
    UPDATE secrets_secretversion
    SET status = 'retired', ciphertext = CASE WHEN name = 'audit_signing' THEN ciphertext ELSE '' END
    WHERE status = 'previous' AND retires_at <= %(now)s
    RETURNING name, version, key_id, fingerprint
"""
REWRAP = "UPDATE secrets_secretversion SET ciphertext = %(ciphertext)s WHERE name = %(name)s AND version = %(version)s"
LOCK_NAME = "SELECT pg_advisory_xact_lock(hashtext('secrets:' || %s))"


def _conninfo() -> dict:
    """The default database's address (the test database under tests) with the owner's credentials."""
    current = connections["default"].settings_dict
    owner = settings.DATABASE_OWNER
    info = {
        "dbname": current["NAME"],
        "host": current.get("HOST") or owner.get("HOST") or None,
        "port": current.get("PORT") or owner.get("PORT") or None,
        "user": owner["USER"],
        "password": owner.get("PASSWORD") or None,
        "connect_timeout": 5,
        "application_name": "samia-keyring",
    }
    return {key: value for key, value in info.items() if value not in (None, "")}


@contextlib.contextmanager
def owner_transaction() -> Iterator[psycopg.Cursor]:
    """A cursor in one transaction of its own, as the owner; committed when the block ends."""
    with psycopg.connect(**_conninfo()) as conn, conn.transaction(), conn.cursor() as cursor:
        yield cursor


def fetch(cursor: psycopg.Cursor, sql: str, params=()) -> list[dict]:
    cursor.execute(sql, params)
    names = [column.name for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def rows(sql: str = SELECT_LIVE, params=()) -> list[dict]:
    with owner_transaction() as cursor:
        return fetch(cursor, sql, params)
