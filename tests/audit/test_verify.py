"""audit_verify on the live table: a clean chain passes; each kind of damage is named at its first bad seq."""

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, transaction

from samia.audit.selectors import chain_verify, checkpoint_latest
from samia.audit.services import checkpoint_sign
from tests.audit.conftest import forge_insert_at, swap, tamper, write

pytestmark = pytest.mark.django_db


def test_it_passes_an_intact_chain_and_prints_rows_per_second(capsys):
    write(5)

    report = chain_verify()
    call_command("audit_verify")

    assert (report.ok, report.rows, report.first_seq, report.last_seq) == (True, 5, 1, 5)
    out = capsys.readouterr().out
    assert "5 rows checked" in out and "rows/s" in out and "ok: seq 1..5" in out


def test_it_passes_an_empty_chain():
    assert chain_verify().ok


@pytest.mark.parametrize(
    ("damage", "seq", "kind"),
    [
        (
            lambda: [("UPDATE audit_auditentry SET payload = replace(payload, 'sre', 'srf') WHERE seq = 3",)],
            3,
            "modified",
        ),
        (
            lambda: [
                "ALTER TABLE audit_auditentry ALTER COLUMN outcome DROP EXPRESSION",
                "UPDATE audit_auditentry SET outcome = 'denied' WHERE seq = 4",
            ],
            4,
            "modified",
        ),
        (lambda: ["DELETE FROM audit_auditentry WHERE seq = 3"], 3, "deleted"),
        (
            lambda: [
                "DELETE FROM audit_auditentry WHERE seq = 3",
                "UPDATE audit_auditentry SET seq = seq - 1 WHERE seq > 3",
            ],
            3,
            "deleted",
        ),
        (lambda: forge_insert_at(3), 3, "inserted"),
        (lambda: swap(3, 4), 3, "reordered"),
    ],
    ids=[
        "payload",
        "column-made-plain-then-edited",
        "middle-row",
        "middle-row-renumbered",
        "forged-row",
        "swapped-rows",
    ],
)
def test_it_names_the_first_damage(damage, seq, kind, capsys):
    # given an intact chain of six rows
    write(6)
    assert chain_verify().ok

    # when someone with the superuser's rights damages it
    tamper(*damage())

    # then verify names the first bad seq and the kind, and audit_verify exits non-zero saying so
    report = chain_verify()
    assert (report.damage.seq, report.damage.kind) == (seq, kind), report.damage
    with pytest.raises(CommandError):
        call_command("audit_verify")
    assert f"first bad seq {seq}, kind {kind}" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("statement", "error"),
    [
        (
            "UPDATE audit_auditentry SET outcome = 'denied' WHERE seq = 2",
            'column "outcome" can only be updated to DEFAULT',
        ),
        ("UPDATE audit_auditentry SET family = 'moderation'", 'column "family" can only be updated to DEFAULT'),
        ("UPDATE audit_auditentry SET occurred_at = now()", 'column "occurred_at" can only be updated to DEFAULT'),
        ("UPDATE audit_auditentry SET payload = 'not json' WHERE seq = 2", "invalid input syntax for type json"),
    ],
    ids=["outcome", "family", "occurred_at", "not-json-payload"],
)
def test_postgres_refuses_to_edit_a_column_apart_from_its_payload(statement, error):
    # given an intact chain, and the superuser with the triggers off
    write(3)

    # then a column cannot be written: Postgres generates it from the payload (and a payload must be JSON)
    with pytest.raises(DatabaseError, match=error), transaction.atomic():
        tamper(statement)
    assert chain_verify().ok


def test_it_reports_columns_no_longer_generated_even_when_no_row_differs():
    write(3)

    tamper("ALTER TABLE audit_auditentry ALTER COLUMN family DROP EXPRESSION")

    report = chain_verify()
    assert (report.damage.seq, report.damage.kind) == (1, "modified")
    assert "family" in report.damage.detail


def test_it_reports_a_replaced_time_function():
    write(2)

    tamper(
        "CREATE OR REPLACE FUNCTION samia.audit_utc_time(value text) RETURNS timestamptz "
        "LANGUAGE sql IMMUTABLE AS $$ SELECT now() $$"
    )

    assert chain_verify().damage.detail == "samia.audit_utc_time() was altered"


def test_the_generated_columns_are_as_verify_expects():
    from samia.audit.selectors import definition_altered

    write(1)
    assert definition_altered() is None


def test_it_detects_a_tail_truncated_behind_the_last_signed_checkpoint(capsys):
    write(6)
    checkpoint = checkpoint_sign(actor="system:test")
    assert (checkpoint.seq, checkpoint.count) == (6, 6)
    assert checkpoint_latest() == checkpoint

    tamper("DELETE FROM audit_auditentry WHERE seq >= 5")

    report = chain_verify()
    assert (report.damage.seq, report.damage.kind) == (5, "truncated")
    with pytest.raises(CommandError):
        call_command("audit_verify")
    assert "first bad seq 5, kind truncated" in capsys.readouterr().out


def test_a_checkpoint_is_signed_and_audited(signing_key):
    from samia.audit import minisign
    from samia.audit.models import AuditEntry

    write(3)
    checkpoint = checkpoint_sign(actor="system:test")
    from tests.audit.conftest import chain_now

    chain_now()

    minisign.verify(checkpoint.statement.encode(), checkpoint.signature, minisign.public_key_text(signing_key))
    assert checkpoint.statement.startswith('{"count":3,"key_id":"0123456789ABCDEF","row_hash":"')
    entry = AuditEntry.objects.get(action="audit.checkpoint.sign")
    assert (entry.seq, entry.details["seq"], entry.target_id) == (4, 3, str(checkpoint.pk))
    assert chain_verify().ok
