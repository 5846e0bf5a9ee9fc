import datetime as dt
from unittest import mock

import pytest
from django.db import connection

from samia.audit.services import record
from samia.audit.verify import row_hash


def chain_now():
    """Fire the commit-time chaining trigger inside the test's transaction."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def write(count, *, action="sre.test.write", at=None, actor="system:test"):
    """Record `count` entries (at a fixed moment when `at` is given) and chain them."""
    with mock.patch("samia.audit.services.timezone.now", return_value=at) if at else _nothing():
        for i in range(count):
            record(action=action, actor=actor, target=("test.thing", i), details={"i": i})
    chain_now()


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def tamper(*statements):
    """Run SQL on the trail as the superuser with its triggers off (undone with the test's transaction)."""
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_auditentry DISABLE TRIGGER USER")
        for statement in statements:
            cursor.execute(*statement) if isinstance(statement, tuple) else cursor.execute(statement)
        cursor.execute("ALTER TABLE audit_auditentry ENABLE TRIGGER USER")


def forged_payload():
    """A payload as record() would write it (Postgres generates the forged row's columns from it)."""
    from samia.audit.services import canonical

    return canonical(
        {
            "action": "sre.test.forged",
            "actor_id": None,
            "actor_role": "system:test",
            "details": {},
            "family": "sre",
            "occurred_at": "2026-01-15T12:00:00.000000Z",
            "outcome": "success",
            "request_id": "",
            "target_id": "",
            "target_type": "",
        }
    )


def forge_insert_at(seq):
    """SQL that inserts a correctly hashed forged row at `seq`, renumbering the rows from there on."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT row_hash FROM audit_auditentry WHERE seq = %s", [seq - 1])
        (prev,) = cursor.fetchone()
    payload = forged_payload()
    return [
        ("UPDATE audit_auditentry SET seq = -(seq + 1) WHERE seq >= %s", [seq]),
        "UPDATE audit_auditentry SET seq = -seq WHERE seq < 0",
        (
            "INSERT INTO audit_auditentry (seq, payload, prev_hash, row_hash) VALUES (%s, %s, %s, %s)",
            [seq, payload, prev, row_hash(prev, payload)],
        ),
    ]


def swap(a, b):
    return [
        ("UPDATE audit_auditentry SET seq = -1 WHERE seq = %s", [a]),
        ("UPDATE audit_auditentry SET seq = %s WHERE seq = %s", [a, b]),
        ("UPDATE audit_auditentry SET seq = %s WHERE seq = -1", [b]),
    ]


LAST_MONTH = "2026-01"
IN_LAST_MONTH = dt.datetime(2026, 1, 15, 12, 0, tzinfo=dt.UTC)
MONTH_BEFORE = "2025-12"
IN_MONTH_BEFORE = dt.datetime(2025, 12, 20, 8, 30, tzinfo=dt.UTC)


@pytest.fixture
def signing_key():
    from samia.audit import minisign

    return minisign.configured_key()


def rewrite_chain(edit):
    """As the superuser with triggers off: replace the chained rows by edit(payloads), re-hashed from the
    genesis, as someone who cannot sign but owns the database would."""
    from samia.audit.verify import ZERO_HASH

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("SELECT payload FROM audit_auditentry WHERE seq IS NOT NULL ORDER BY seq")
        payloads = edit([payload for (payload,) in cursor.fetchall()])
        cursor.execute("DELETE FROM audit_auditentry")
        previous = ZERO_HASH
        for seq, payload in enumerate(payloads, start=1):
            cursor.execute(
                "INSERT INTO audit_auditentry (seq, payload, prev_hash, row_hash) VALUES (%s, %s, %s, %s)",
                [seq, payload, previous, row_hash(previous, payload)],
            )
            previous = row_hash(previous, payload)
        cursor.execute("SET LOCAL session_replication_role = origin")


def without_signing_records(payloads):
    return [payload for payload in payloads if '"action":"audit.checkpoint.sign"' not in payload]
