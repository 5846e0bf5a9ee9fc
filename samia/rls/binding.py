"""Bind database work to an identity: SET LOCAL ROLE samia_app plus transaction-local settings."""

from __future__ import annotations

from contextlib import contextmanager

from django.db import connections, transaction

from samia.rls.registry import ANONYMOUS_IDENTITY, APP_ROLE, Identity

_BIND_SQL = (
    "SELECT set_config('samia.user_id', %s, true), set_config('samia.role', %s, true), "
    f"set_config('role', '{APP_ROLE}', true)"
)
_READ_SQL = "SELECT current_user, current_setting('samia.user_id', true), current_setting('samia.role', true)"
_RESTORE_SQL = (
    "SELECT set_config('samia.user_id', %s, true), set_config('samia.role', %s, true), set_config('role', %s, true)"
)


class Binding:
    """The identity that the enclosing `bound()` block runs as; `switch()` changes it in place."""

    def __init__(self, using: str):
        self.using = using
        self.identity = ANONYMOUS_IDENTITY

    def switch(self, identity: Identity) -> None:
        """Bind `identity` for the rest of the block."""
        user_id = "" if identity.user_id is None else str(identity.user_id)
        with connections[self.using].cursor() as cursor:
            cursor.execute(_BIND_SQL, [user_id, identity.role or ""])
        self.identity = identity


@contextmanager
def bound(identity: Identity = ANONYMOUS_IDENTITY, using: str = "default"):
    """Run the block in one transaction as the app role with `identity`; restore the caller's role after."""
    connection = connections[using]
    nested = connection.in_atomic_block
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
            role, user_id, role_setting = previous
            with connection.cursor() as cursor:
                cursor.execute(_RESTORE_SQL, [user_id or "", role_setting or "", role])


def current_identity(using: str = "default") -> tuple[str, str | None, str | None]:
    """Return (database role, samia.user_id, samia.role) as the connection sees them now."""
    with connections[using].cursor() as cursor:
        cursor.execute(_READ_SQL)
        role, user_id, role_setting = cursor.fetchone()
    return role, user_id or None, role_setting or None
