"""Bind database work to an identity: SET LOCAL ROLE samia_app plus a user id Postgres can verify.

The user id goes with its proof, an HMAC under RLS_BINDING_KEY of the id and this connection's
server process (samia.rls.sql.SESSION_NONCE). samia.actor_id() recomputes it with the owner's copy
of the key, which the request's roles cannot read: an id set by anything but this module, or a
proof carried over from another connection, means nobody.
"""

from __future__ import annotations

import hashlib
import hmac
from contextlib import contextmanager

from django.conf import settings
from django.db import connections, transaction

from samia.rls.registry import ANONYMOUS_IDENTITY, APP_ROLE, Identity
from samia.rls.sql import SESSION_NONCE

NONCE_SQL = f"SELECT {SESSION_NONCE}"
_BIND_SQL = (
    "SELECT set_config('samia.user_id', %s, true), set_config('samia.user_proof', %s, true), "
    f"set_config('role', '{APP_ROLE}', true)"
)
_READ_SQL = "SELECT current_user, current_setting('samia.user_id', true), current_setting('samia.user_proof', true)"
_RESTORE_SQL = (
    "SELECT set_config('samia.user_id', %s, true), set_config('samia.user_proof', %s, true), "
    "set_config('role', %s, true)"
)
_IDENTITY_SQL = "SELECT current_user, samia.actor_id()::text, samia.actor_role()"


def proof(user_id: int, nonce: str, key: str | None = None) -> str:
    """Return the hex HMAC-SHA256 that makes `user_id` count on the connection with `nonce`."""
    key = settings.RLS_BINDING_KEY if key is None else key
    return hmac.new(key.encode(), f"{user_id}@{nonce}".encode(), hashlib.sha256).hexdigest()


def purpose_proof(purpose: str, value: str, using: str = "default") -> str:
    """Return the HMAC that lets this connection ask a SECURITY DEFINER lookup about `value` for `purpose`.

    The same construction as an identity's proof, over "<purpose>:<value>@<nonce>": a function that
    answers about a value no identity owns (the HELP reply's phone number) recomputes it with the
    owner's copy of the key, so a session that merely holds the app login learns nothing from it.
    """
    nonce = session_nonce(using)
    return hmac.new(
        settings.RLS_BINDING_KEY.encode(), f"{purpose}:{value}@{nonce}".encode(), hashlib.sha256
    ).hexdigest()


def session_nonce(using: str = "default") -> str:
    """Return the nonce of the connection's server process, read once per connection."""
    connection = connections[using]
    connection.ensure_connection()
    cached = getattr(connection, "rls_session_nonce", None)
    if cached is None or cached[0] is not connection.connection:
        with connection.cursor() as cursor:
            cursor.execute(NONCE_SQL)
            (nonce,) = cursor.fetchone()
        if nonce is None:
            raise RuntimeError("Postgres did not show this connection its own start time; bind before SET ROLE.")
        cached = (connection.connection, nonce)
        connection.rls_session_nonce = cached
    return cached[1]


class Binding:
    """The identity that the enclosing `bound()` block runs as; `switch()` changes it in place."""

    def __init__(self, using: str):
        self.using = using
        self.identity = ANONYMOUS_IDENTITY

    def switch(self, identity: Identity) -> None:
        """Bind `identity` for the rest of the block."""
        user_id, user_proof = "", ""
        if identity.user_id is not None:
            user_id = str(identity.user_id)
            user_proof = proof(identity.user_id, session_nonce(self.using))
        with connections[self.using].cursor() as cursor:
            cursor.execute(_BIND_SQL, [user_id, user_proof])
        self.identity = identity


@contextmanager
def bound(identity: Identity = ANONYMOUS_IDENTITY, using: str = "default"):
    """Run the block in one transaction as the app role with `identity`; restore the caller's role after."""
    connection = connections[using]
    nested = connection.in_atomic_block
    # Read the nonce while the connection still runs as its login: after SET ROLE, Postgres no longer
    # shows it the session's start time, and a block that starts anonymous may switch to a user later.
    session_nonce(using)
    with transaction.atomic(using=using):
        previous = None
        if nested:
            with connection.cursor() as cursor:
                cursor.execute(_READ_SQL)
                previous = cursor.fetchone()
        binding = Binding(using)
        binding.switch(identity)
        yield binding
        # SET LOCAL outlives a released savepoint, so a nested block puts the outer identity back
        # itself. A block that fails is rolled back, which undoes the settings with it.
        if previous is not None and not connection.needs_rollback:
            role, user_id, user_proof = previous
            with connection.cursor() as cursor:
                cursor.execute(_RESTORE_SQL, [user_id or "", user_proof or "", role])


def current_identity(using: str = "default") -> tuple[str, str | None, str | None]:
    """Return (database role, actor id, actor role) as Postgres derives them now."""
    with connections[using].cursor() as cursor:
        cursor.execute(_IDENTITY_SQL)
        return cursor.fetchone()
