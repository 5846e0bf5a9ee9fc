"""The process's copy of the keyring: loaded as the owner, reloaded when the generation moves.

Every process keeps the decrypted live versions in memory. Each read checks the Redis counter
`samia:secrets:generation` at most every CHECK_SECONDS; a rotation increments it, so every process
reloads within that time. Without a master key the keyring holds just the environment values
(version 1), read-only: nothing breaks, nothing rotates.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import threading
import time
from dataclasses import dataclass, field

import psycopg
from django.conf import settings
from redis.exceptions import RedisError

from samia.redis import get_redis, key
from samia.secrets import catalog, crypto, store

CHECK_SECONDS = 5
GENERATION = "secrets:generation"

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Key:
    name: str
    version: int
    key_id: str
    value: bytes = field(repr=False)
    status: str = "active"
    from_environment: bool = False


class SecretMissing(crypto.SecretsUnavailable):
    code = "secret_missing"
    default_message = "This secret has no version: set it, or configure its environment value."


@dataclass
class _Ring:
    live: dict[str, list[Key]] = field(default_factory=dict)  # active first, then previous, newest first
    published: dict[str, list[Key]] = field(default_factory=dict)  # audit_signing, retired included
    retired: dict[str, set[str]] = field(default_factory=dict)  # key ids that must never verify again
    generation: int | None = None
    checked_at: float = float("-inf")
    loaded: bool = False


_ring = _Ring()
_lock = threading.Lock()


def generation() -> int:
    return int(get_redis().get(key(GENERATION)) or 0)


def bump() -> None:
    """Tell every process to reload (this one at once)."""
    get_redis().incr(key(GENERATION))
    _ring.checked_at = float("-inf")


def _environment_ring() -> dict[str, list[Key]]:
    found = {}
    for name in (*catalog.ROTATING, *catalog.CREDENTIALS):
        value = catalog.environment_value(name)
        if value:
            found[name] = [Key(name, 1, value[0], value[1], "active", True)]
    return found


def _import_environment(cursor, names: list[str]) -> None:
    """Write version 1 of each of `names` (none has a version yet) from its environment value."""
    for name in names:
        value = catalog.environment_value(name)
        if value:
            key_id, secret = value
            cursor.execute(
                store.IMPORT,
                {
                    "name": name,
                    "key_id": key_id,
                    "ciphertext": crypto.encrypt(secret),
                    "fingerprint": crypto.fingerprint(name, secret),
                },
            )


def _read_rows() -> list[dict]:
    """Every version, importing version 1 of the names that have none and an environment value: one
    connection and, once imported, one statement (a reload is on the request path every rotation)."""
    with store.owner_transaction() as cursor:
        rows = store.fetch(cursor, store.SELECT_ALL)
        present = {row["name"] for row in rows}
        missing = [
            name
            for name in (*catalog.ROTATING, *catalog.CREDENTIALS)
            if name not in present and catalog.environment_value(name)
        ]
        if missing:
            _import_environment(cursor, missing)
            # Read again whether or not these INSERTs wrote the rows: two processes starting together
            # both try, and the one whose INSERTs conflict waited for the other's commit and now sees it.
            rows = store.fetch(cursor, store.SELECT_ALL)
    return rows


# Values already decrypted, by master keys and ciphertext: a reload decrypts only versions it has not
# seen (a master key taken out of SECRETS_MASTER_KEYS opens nothing from then on).
_opened: dict[tuple[tuple[str, ...], str], bytes] = {}


def _open(ciphertext: str) -> bytes:
    found = (tuple(settings.SECRETS_MASTER_KEYS), ciphertext)
    value = _opened.get(found)
    if value is None:
        value = _opened[found] = crypto.decrypt(ciphertext)
    return value


def reload(current_generation: int | None = None) -> None:
    """Read the keyring again (as the owner, on a connection of its own)."""
    global _opened
    if not crypto.configured():
        live, published = _environment_ring(), {}
    else:
        try:
            rows = _read_rows()
        except psycopg.Error:  # e.g. before `migrate` made the table: the environment values, loaded again soon
            logger.warning("keyring not loaded from the database")
            _ring.live, _ring.published, _ring.loaded, _ring.generation = _environment_ring(), {}, True, None
            return
        live, published, retired, seen = {}, {}, {}, set()
        for row in rows:
            if row["status"] == "retired":
                retired.setdefault(row["name"], set()).add(row["key_id"])
            if not row["ciphertext"]:
                continue
            seen.add((tuple(settings.SECRETS_MASTER_KEYS), row["ciphertext"]))
            entry = Key(
                row["name"],
                row["version"],
                row["key_id"],
                _open(row["ciphertext"]),
                row["status"],
                row["from_environment"],
            )
            if row["status"] != "retired":
                live.setdefault(row["name"], []).append(entry)
            if row["name"] == "audit_signing":
                published.setdefault(row["name"], []).append(entry)
        for versions in live.values():
            versions.sort(key=lambda entry: (entry.status != "active", -entry.version))
        _opened = {found: value for found, value in _opened.items() if found in seen}
    _ring.live, _ring.published = live, published
    _ring.retired = retired if crypto.configured() else {}
    _ring.generation = current_generation
    _ring.loaded = True


def _fresh() -> _Ring:
    now = time.monotonic()
    if _ring.loaded and now - _ring.checked_at < CHECK_SECONDS:
        return _ring
    with _lock:
        if _ring.loaded and time.monotonic() - _ring.checked_at < CHECK_SECONDS:
            return _ring
        try:
            seen = generation()
        except RedisError:  # keep what is loaded; load once when nothing is
            logger.warning("keyring generation unavailable")
            seen = _ring.generation
        if not _ring.loaded or seen != _ring.generation:
            reload(seen)
        _ring.checked_at = time.monotonic()
    return _ring


def _versions(name: str) -> list[Key]:
    """Live versions of `name`. One imported from the environment is read from there now: while it
    is active (never rotated here) the environment decides, key id and value, or that there is none;
    once previous, its value (same key id) still comes from there. In production these are the stored
    values; a test that overrides a setting sees its override."""
    versions = _fresh().live.get(name, [])
    if not versions or not versions[-1].from_environment:
        return versions
    imported = versions[-1]
    environment = catalog.environment_value(name)
    if imported.status == "active":
        return [Key(name, 1, environment[0], environment[1], "active", True)] if environment else []
    if environment is None or environment[0] != imported.key_id:
        return versions
    return [*versions[:-1], Key(name, 1, environment[0], environment[1], imported.status, True)]


def current(name: str) -> Key:
    """The active version of `name`: what signs now."""
    versions = _versions(name)
    if not versions or versions[0].status != "active":
        raise SecretMissing(name=name)
    return versions[0]


def verifying(name: str) -> list[Key]:
    """The active and previous versions of `name`: what still verifies (active first)."""
    return _versions(name)


def find(name: str, key_id: str) -> Key | None:
    """The live version of `name` with this key id, if any.

    An unknown key id may have been made by another process's rotation since this one last looked:
    the generation is asked again at once (not after up to CHECK_SECONDS), so a fresh key verifies.
    """
    found = next((entry for entry in _versions(name) if entry.key_id == key_id), None)
    if found is None and key_id not in retired(name):
        _ring.checked_at = float("-inf")
        found = next((entry for entry in _versions(name) if entry.key_id == key_id), None)
    return found


def retired(name: str) -> set[str]:
    """Key ids of `name` retired here: an environment list still naming one must not revive it."""
    return _fresh().retired.get(name, set())


def published(name: str) -> list[Key]:
    """Every version of `name` that kept its value, retired ones included (audit public keys)."""
    found = list(_fresh().published.get(name, ()))
    environment = catalog.environment_value(name)
    if environment and not any(entry.key_id == environment[0] for entry in found):
        found.append(Key(name, 1, environment[0], environment[1]))
    return found


def loaded_generation() -> int | None:
    """The generation this process's keyring was loaded at (checked at most every CHECK_SECONDS)."""
    if not crypto.configured():
        return None
    return _fresh().generation


_candidates: contextvars.ContextVar[dict[str, bytes] | None] = contextvars.ContextVar("secret_candidates", default=None)


@contextlib.contextmanager
def candidate(name: str, value: bytes):
    """Within the block, `credential(name)` answers `value` (a provider probe of a new credential)."""
    token = _candidates.set({**(_candidates.get() or {}), name: value})
    try:
        yield
    finally:
        _candidates.reset(token)


def credential(name: str) -> str | None:
    """A provider credential set through the keyring, or None: the caller then reads its setting."""
    trial = (_candidates.get() or {}).get(name)
    if trial is not None:
        return trial.decode()
    versions = _versions(name)
    if versions and versions[0].status == "active" and not versions[0].from_environment:
        return versions[0].value.decode()
    return None
