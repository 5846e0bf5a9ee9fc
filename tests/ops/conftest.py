"""Ops fixtures: a clean keyring, switches and circuits, the fake Twilio of the notification tests."""

from __future__ import annotations

import os
import subprocess
import sys

import psycopg
import pytest
from django.conf import settings as django_settings
from django.db import connections

from samia.redis import get_redis
from samia.secrets import keyring, store
from tests.notifications.conftest import _fresh_providers, twilio, twilio_server  # noqa: F401


def _forget_ops_state() -> None:
    from samia.providers import breaker, toggles

    toggles._local.clear()
    breaker._breakers.clear()
    client = get_redis()
    prefix = django_settings.CACHES["default"]["KEY_PREFIX"]
    for pattern in (f"{prefix}:providers:*", f"{prefix}:secrets:*"):
        for found in client.scan_iter(pattern):
            client.delete(found)


@pytest.fixture(autouse=True)
def clean_keyring(db):
    """An empty keyring (committed on the owner's connection) before and after each test."""
    with store.owner_transaction() as cursor:
        cursor.execute("DELETE FROM secrets_secretversion")
    _forget_ops_state()
    keyring.reload(keyring.generation())
    yield
    with store.owner_transaction() as cursor:
        cursor.execute("DELETE FROM secrets_secretversion")
    _forget_ops_state()
    keyring.reload(keyring.generation())
    purge_committed_owner_audit()


def purge_committed_owner_audit() -> None:
    """Remove the audit rows the keyring and the circuits committed on the owner's connection (the
    retention way, as tests.conftest.purge_committed_audit_trail, but committed: the test's own
    transaction is rolled back), so the next tests' chain starts empty."""
    try:  # a test whose own transaction holds the chain lock would make the sweep wait for ever
        with store.owner_transaction() as cursor:
            cursor.execute("SET LOCAL lock_timeout = '2s'")
            cursor.execute("SELECT samia.audit_chain_sweep()")
    except psycopg.errors.LockNotAvailable:
        pass
    with store.owner_transaction() as cursor:
        cursor.execute("SELECT count(*) FROM audit_auditentry")
        if cursor.fetchone()[0] == 0:
            return
        cursor.execute(
            "INSERT INTO audit_auditanchor (seq, row_hash, purged_at, manifest_sha256) "
            "SELECT seq, row_hash, now(), repeat('0', 64) FROM audit_auditentry WHERE seq IS NOT NULL "
            "ORDER BY seq DESC LIMIT 1"
        )
        cursor.execute("SELECT set_config('samia.audit_purging', 'on', true)")
        cursor.execute("DELETE FROM audit_auditentry WHERE seq IS NOT NULL")
        cursor.execute("DELETE FROM audit_auditanchor")


def age(name: str, *, seconds: int) -> None:
    """Pretend the live versions of `name` were activated `seconds` earlier (rotations are 60 s apart)."""
    with store.owner_transaction() as cursor:
        cursor.execute(
            "UPDATE secrets_secretversion SET activated_at = activated_at - make_interval(secs => %s) WHERE name = %s",
            [seconds, name],
        )


def end_grace(name: str) -> None:
    with store.owner_transaction() as cursor:
        cursor.execute(
            "UPDATE secrets_secretversion SET retires_at = now() - interval '1 second' "
            "WHERE name = %s AND status = 'previous'",
            [name],
        )


def other_process(*arguments: str, env: dict | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run `python -m tests.ops.worker ...` in another process on this test database and Redis space."""
    database = connections["default"].settings_dict
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "CACHE_KEY_PREFIX": django_settings.CACHES["default"]["KEY_PREFIX"],
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}/{database['NAME']}",
        **(env or {}),
    }
    return subprocess.run(
        [sys.executable, "-m", "tests.ops.worker", *arguments],
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=django_settings.BASE_DIR,
    )
