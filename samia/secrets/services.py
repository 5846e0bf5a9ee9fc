"""Writes to the keyring: rotate, set a provider credential, retire, rewrap.

Each runs in one transaction of its own on the owner's connection (store.owner_transaction), with
its audit entry in that same transaction, so the keyring never changes unrecorded. Then the
generation moves and every process reloads within keyring.CHECK_SECONDS. Audit details hold the
name, key ids, versions and fingerprints, never a value.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.utils import timezone

from samia.audit import services as audit
from samia.exceptions import Conflict
from samia.rls.registry import Identity
from samia.secrets import catalog, crypto, keyring, store

# Two rotations of one name closer than this are refused: a double click must not void the grace.
MIN_INTERVAL = dt.timedelta(seconds=60)
ROLE_RANK = {"admin": 1, "superadmin": 2}


class SecretUnknown(ObjectDoesNotExist):
    """No secret of that name (404)."""


class ProbeFailed(Exception):
    """The provider refused the new credential; the previous version stays active."""

    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


def _rotating(name: str) -> catalog.Rotating:
    found = catalog.kind(name)
    if found == "stable":
        raise Conflict(
            "This key is a stable pseudonym and is never rotated.", status="never_rotated", name=name.upper()
        )
    if found != "rotating":
        raise SecretUnknown(name)
    return catalog.ROTATING[name]


def _add_version(cursor, *, name: str, key_id: str, value: bytes, status: str) -> int:
    cursor.execute(
        store.INSERT,
        {
            "name": name,
            "key_id": key_id,
            "ciphertext": crypto.encrypt(value),
            "fingerprint": crypto.fingerprint(name, value),
            "status": status,
        },
    )
    return cursor.fetchone()[0]


def _demote(cursor, *, name: str, retires_at: dt.datetime) -> tuple | None:
    cursor.execute(store.DEMOTE_ACTIVE, {"name": name, "retires_at": retires_at})
    return cursor.fetchone()


def secret_rotate(*, name: str, actor: Identity | str, reason: str = "") -> dict:
    """Make a new version of a generated key active; the old one verifies until its grace ends.

    `reason`, a short code (the back office asks for one), goes into the audit entry.
    """
    spec = _rotating(name)
    if not isinstance(actor, str) and ROLE_RANK.get(actor.role or "", 0) < ROLE_RANK[spec.role]:
        raise PermissionDenied(f"Rotating {name} needs a {spec.role}.")
    if not crypto.configured():
        raise crypto.SecretsUnavailable()
    keyring.reload(keyring.generation())  # version 1 is imported from the environment first
    with store.owner_transaction() as cursor:
        cursor.execute(store.LOCK_NAME, [name])
        cursor.execute(
            "SELECT max(activated_at) FROM secrets_secretversion WHERE name = %s AND status <> 'retired'", [name]
        )
        last = cursor.fetchone()[0]
        now = timezone.now()
        if last and now - last < MIN_INTERVAL:
            raise Conflict("This key was rotated less than a minute ago.", status="rotated_recently", name=name)
        old = _demote(cursor, name=name, retires_at=now + spec.grace())
        key_id, value = spec.generate()
        version = _add_version(cursor, name=name, key_id=key_id, value=value, status="active")
        details = {
            "name": name,
            "version": version,
            "key_id": key_id,
            "fingerprint": crypto.fingerprint(name, value),
            "previous_key_id": old[1] if old else None,
            "previous_fingerprint": old[2] if old else None,
        }
        audit.record(
            action="ops.secret.rotate",
            actor=actor,
            target=("secrets.secret", name),
            details={**details, "reason": reason} if reason else details,
            cursor=cursor,
        )
    keyring.bump()
    return details


def secret_set(*, name: str, value: bytes, actor: Identity | str, probe: Callable[[str, bytes], str | None]) -> dict:
    """Store a provider credential; it becomes active only when `probe(name, value)` returns None.

    `probe` answers with what failed (a code) or None; on failure nothing is stored and ProbeFailed
    is raised, so the version in use stays.
    """
    if catalog.kind(name) == "stable":
        _rotating(name)
    if catalog.kind(name) != "credential":
        raise SecretUnknown(name)
    if not crypto.configured():
        raise crypto.SecretsUnavailable()
    if not value:
        raise ValueError("the credential is empty")
    keyring.reload(keyring.generation())  # version 1 from the environment first: kept on failure
    failed = probe(name, value)
    if failed:
        with store.owner_transaction() as cursor:
            audit.record(
                action="ops.secret.set",
                actor=actor,
                target=("secrets.secret", name),
                outcome="failure",
                details={"name": name, "code": failed[:64]},
                cursor=cursor,
            )
        raise ProbeFailed(failed)
    with store.owner_transaction() as cursor:
        cursor.execute(store.LOCK_NAME, [name])
        # A provider takes one credential at a time: the old one retires at once.
        old = _demote(cursor, name=name, retires_at=timezone.now())
        version = _add_version(
            cursor, name=name, key_id=f"v{_next_version(cursor, name)}", value=value, status="active"
        )
        details = {
            "name": name,
            "version": version,
            "fingerprint": crypto.fingerprint(name, value),
            "previous_fingerprint": old[2] if old else None,
        }
        audit.record(
            action="ops.secret.rotate", actor=actor, target=("secrets.secret", name), details=details, cursor=cursor
        )
        _retire_due(cursor, actor=actor)
    keyring.bump()
    return details


def _next_version(cursor, name: str) -> int:
    cursor.execute("SELECT coalesce(max(version), 0) + 1 FROM secrets_secretversion WHERE name = %s", [name])
    return cursor.fetchone()[0]


def _retire_due(cursor, *, actor) -> list[tuple]:
    cursor.execute(store.RETIRE_DUE, {"now": timezone.now()})
    retired = cursor.fetchall()
    for name, version, key_id, fingerprint in retired:
        audit.record(
            action="ops.secret.retire",
            actor=actor,
            target=("secrets.secret", name),
            details={"name": name, "version": version, "key_id": key_id, "fingerprint": fingerprint},
            cursor=cursor,
        )
    return retired


def secrets_retire_due(*, actor: str = "system:ops") -> int:
    """Retire the previous versions whose grace has ended; return how many."""
    if not crypto.configured():
        return 0
    with store.owner_transaction() as cursor:
        retired = _retire_due(cursor, actor=actor)
    if retired:
        keyring.bump()
    return len(retired)


def secrets_rotate_due(*, now: dt.datetime | None = None) -> list[str]:
    """Rotate each generated key whose active version is older than its rotation period; retire what is due."""
    if not crypto.configured():
        return []
    now = now or timezone.now()
    keyring.reload(keyring.generation())  # imports version 1 where missing
    active = {row["name"]: row for row in store.rows() if row["status"] == "active"}
    rotated = []
    for name, spec in catalog.ROTATING.items():
        row = active.get(name)
        if row is not None and now - row["activated_at"] >= spec.every():
            secret_rotate(name=name, actor="system:ops")
            rotated.append(name)
    secrets_retire_due()
    return rotated


def secrets_rewrap() -> int:
    """Re-encrypt every version under the first master key; return how many."""
    if not crypto.configured():
        raise crypto.SecretsUnavailable()
    with store.owner_transaction() as cursor:
        cursor.execute("SELECT name, version, ciphertext FROM secrets_secretversion WHERE ciphertext <> '' FOR UPDATE")
        found = cursor.fetchall()
        for name, version, ciphertext in found:
            cursor.execute(store.REWRAP, {"name": name, "version": version, "ciphertext": crypto.rewrap(ciphertext)})
        audit.record(action="ops.secret.rewrap", actor="system:ops", details={"versions": len(found)}, cursor=cursor)
    keyring.bump()
    return len(found)


def secret_list() -> list[dict]:
    """Metadata of every version (never a value), newest first per name."""
    rows = store.rows(store.SELECT_ALL) if crypto.configured() else []
    listed = [{key: value for key, value in row.items() if key != "ciphertext"} for row in rows]
    for entry in listed:
        entry["kind"] = catalog.kind(entry["name"])
    return listed
