"""Issue 14, item 5: the audit trail survives a database superuser.

The superuser switches triggers off (session_replication_role = replica), deletes signed checkpoints and
rewrites the chain behind them, re-hashed so that it links. The database alone can no longer tell; the
write-once witness outside it can, and audit_verify --witness names the first checkpoint that differs
or is missing.
"""

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from samia.audit import checkpoints, tasks
from samia.audit.models import AuditCheckpoint
from tests.audit.conftest import chain_now, rewrite_chain, without_signing_records, write

pytestmark = pytest.mark.django_db


@pytest.fixture
def witnessed(settings, tmp_path):
    """Two checkpoints, both in a file witness: #1 signs seq 3, #2 signs seq 7 (seq 4 records signing #1)."""
    settings.AUDIT_WITNESS = (tmp_path / "witness").as_uri()
    settings.AUDIT_CHECKPOINT_MINUTES = 0
    write(3)
    assert tasks.checkpoint_head() == {"signed": 1, "witnessed": 1}
    write(3)
    assert tasks.checkpoint_head() == {"signed": 2, "witnessed": 1}
    chain_now()
    assert [(c.serial, c.seq) for c in AuditCheckpoint.objects.order_by("serial")] == [(1, 3), (2, 7)]
    call_command("audit_verify", witness="")
    return tmp_path / "witness"


def _verify(capsys, **options):
    with pytest.raises(CommandError):
        call_command("audit_verify", **options)
    return capsys.readouterr().out


def test_deleting_the_checkpoints_and_rewriting_the_chain_is_caught_by_the_witness(witnessed, capsys):
    # when the superuser deletes every checkpoint, and rewrites row 2 and every hash after it
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("DELETE FROM audit_auditcheckpoint")
    rewrite_chain(lambda rows: without_signing_records([rows[0], rows[1].replace("sre.test", "sre.fake"), *rows[2:]]))

    # then the database alone still links (the window the witness closes) ...
    call_command("audit_verify")
    capsys.readouterr()
    # ... and the witness names the first checkpoint the database no longer has
    out = _verify(capsys, witness="")
    assert "witness: first bad checkpoint 1: missing (the witness holds it, the database does not" in out
    assert "signed: seq 3" in out


def test_rewriting_rows_before_the_last_witnessed_checkpoint_is_caught(witnessed, capsys):
    # when the superuser rewrites row 5 (covered by checkpoint 2), drops checkpoint 2 and the record of signing it
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("DELETE FROM audit_auditcheckpoint WHERE serial = 2")
    rewrite_chain(lambda rows: [*rows[:4], rows[4].replace("sre.test", "sre.fake"), *rows[5:7]])

    out = _verify(capsys, witness="")

    assert "witness: first bad checkpoint 2: missing (the witness holds it, the database does not" in out


def test_a_rewrite_behind_a_checkpoint_the_database_still_holds_is_named_without_the_witness(witnessed, capsys):
    rewrite_chain(lambda rows: [rows[0], rows[1].replace("sre.test", "sre.fake"), *rows[2:]])

    out = _verify(capsys)

    assert "first bad checkpoint 1: rewritten (the chain's row at its seq does not carry the signed hash)" in out


def test_a_deleted_last_checkpoint_is_named_by_the_chains_record_of_signing_it(witnessed, capsys):
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("DELETE FROM audit_auditcheckpoint WHERE serial = 2")

    out = _verify(capsys)

    assert "first bad checkpoint 2: missing (the chain records signing it; the row is gone)" in out


def test_an_edited_checkpoint_differs_from_the_witness(witnessed, capsys):
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("UPDATE audit_auditcheckpoint SET signature = replace(signature, 'samia', 'other')")

    out = _verify(capsys, witness="")

    assert "witness: first bad checkpoint 1: differs" in out


def test_a_checkpoint_noted_as_witnessed_but_absent_from_the_witness_is_missing(witnessed, capsys):
    (witnessed / "checkpoint-000000000002.json").unlink()

    out = _verify(capsys, witness="")

    assert "witness: first bad checkpoint 2: missing (noted as witnessed, but the witness does not hold it)" in out


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_auditcheckpoint SET seq = 1",
        "UPDATE audit_auditcheckpoint SET witnessed_at = now()",
        "DELETE FROM audit_auditcheckpoint",
        "TRUNCATE audit_auditcheckpoint",
    ],
    ids=["update", "re-witness", "delete", "truncate"],
)
def test_checkpoints_are_append_only_for_the_owner_and_the_app_role(witnessed, statement):
    with (
        pytest.raises(DatabaseError, match="audit checkpoints are append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)
    assert AuditCheckpoint.objects.count() == 2
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT p FROM unnest(ARRAY['UPDATE', 'DELETE', 'TRUNCATE']) p "
            "WHERE has_table_privilege('samia_app', 'audit_auditcheckpoint', p)"
        )
        assert cursor.fetchall() == []


def test_the_beat_job_is_installed_and_signs_only_when_the_head_moved(settings, tmp_path):
    from django.utils import timezone
    from django_celery_beat.models import PeriodicTask

    settings.AUDIT_WITNESS = tmp_path.as_uri()
    job = PeriodicTask.objects.get(name="samia.audit.checkpoint_head")
    assert (job.task, job.enabled, job.interval.every, job.interval.period) == (
        "samia.audit.checkpoint_head",
        True,
        1,
        "minutes",
    )
    assert settings.AUDIT_CHECKPOINT_MINUTES == 5

    # nothing written: nothing to sign
    assert tasks.checkpoint_head() == {"signed": None, "witnessed": 0}
    write(2)
    assert tasks.checkpoint_head()["signed"] == 1
    chain_now()
    later = timezone.now() + timezone.timedelta(minutes=10)
    # only the record of signing it since: the head did not move
    assert checkpoints.checkpoint_head(now=later) is None
    write(1)
    # it moved, but the interval since the last checkpoint has not passed
    assert checkpoints.checkpoint_head(now=timezone.now() + timezone.timedelta(minutes=1)) is None
    assert checkpoints.checkpoint_head(now=later).serial == 2


def test_a_failed_witness_write_is_not_noted_and_the_next_run_writes_it(settings, tmp_path):
    (tmp_path / "not-a-directory").write_text("")
    settings.AUDIT_WITNESS = (tmp_path / "not-a-directory" / "witness").as_uri()
    write(2)

    with pytest.raises(checkpoints.WitnessUnavailable):
        tasks.checkpoint_head()
    assert AuditCheckpoint.objects.get().witnessed_at is None

    settings.AUDIT_WITNESS = (tmp_path / "witness").as_uri()
    assert tasks.checkpoint_head() == {"signed": None, "witnessed": 1}
    assert AuditCheckpoint.objects.get().witnessed_at is not None
    assert [p.name for p in (tmp_path / "witness").iterdir()] == ["checkpoint-000000000001.json"]


def test_the_file_witness_creates_each_record_once_and_read_only(tmp_path):
    from samia.audit import witness

    store = witness.from_url(tmp_path.as_uri())
    store.put("checkpoint-000000000001.json", b"first")

    with pytest.raises(witness.AlreadyWritten):
        store.put("checkpoint-000000000001.json", b"second")
    assert store.get("checkpoint-000000000001.json") == b"first"
    assert (tmp_path / "checkpoint-000000000001.json").stat().st_mode & 0o777 == 0o444
