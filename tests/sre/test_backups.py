"""Backups and restore drills on the test database: pg_dump -Fc, sha256, row counts, pruning, a real restore."""

import datetime as dt
import hashlib

import psycopg
import pytest
from django.db import connection
from django.utils import timezone

from sre import backups, drills
from sre.models import Backup, RestoreDrill

pytestmark = pytest.mark.django_db


@pytest.fixture
def backup_dir(settings, tmp_path):
    settings.SRE_BACKUP_DIR = str(tmp_path)
    return tmp_path


def _drill_databases() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s", [f"{connection.settings_dict['NAME']}_drill_%"]
        )
        return [row[0] for row in cursor.fetchall()]


def test_it_snapshots_restores_checks_and_drops_the_scratch_database(backup_dir):
    # when a snapshot is taken
    backup = backups.backup_snapshot()

    # then the dump is there with its sha256 and the committed rows of every table
    dump = backup_dir / backup.file_name
    assert hashlib.sha256(dump.read_bytes()).hexdigest() == backup.sha256
    assert backup.size_bytes == dump.stat().st_size > 0
    assert backup.kind == "monthly"  # the month's first
    assert backup.row_counts["public.sre_budget"] == 6
    assert backup.row_counts["public.sre_runbook"] == 4
    assert backup.server_version.split(".")[0] == "15"

    # when it is restored in a drill
    drill = drills.restore_drill(backup=backup)

    # then counts match, rls_check and the chain verify against the restored copy, and the copy is gone
    assert drill.details["count_mismatches"] == []
    assert drill.details["tables"] == len(backup.row_counts)
    assert (drill.details["restore"], drill.details["rls_check"], drill.details["chain_verify"]) == ("passed",) * 3
    assert drill.result == "passed"
    assert drill.duration_seconds > 0
    assert _drill_databases() == []
    assert RestoreDrill.objects.get() == drill


def test_it_refuses_to_restore_a_damaged_dump(backup_dir):
    backup = backups.backup_snapshot()
    with (backup_dir / backup.file_name).open("ab") as dump:
        dump.write(b"x")

    with pytest.raises(backups.BackupError, match="sha256"):
        drills.restore_drill(backup=backup)
    assert RestoreDrill.objects.count() == 0


def test_it_keeps_seven_daily_and_twelve_monthly_snapshots(backup_dir, settings):
    start = timezone.now() - dt.timedelta(days=400)
    for n in range(20):
        for kind in ("daily", "monthly"):
            name = f"{kind}-{n}.dump"
            (backup_dir / name).write_bytes(b"-")
            Backup.objects.create(
                kind=kind, file_name=name, sha256="0" * 64, size_bytes=1, server_version="15",
                started_at=start + dt.timedelta(days=n),
            )  # fmt: skip

    removed = backups.backups_prune()

    kept = Backup.objects.filter(removed_at__isnull=True)
    assert len(removed) == 13 + 8
    assert sorted(kept.filter(kind="daily").values_list("file_name", flat=True)) == sorted(
        f"daily-{n}.dump" for n in range(13, 20)
    )
    assert kept.filter(kind="monthly").count() == 12
    assert sorted(p.name for p in backup_dir.iterdir()) == sorted(kept.values_list("file_name", flat=True))


def test_pg_dump_major_version_is_the_servers():
    info = backups.conninfo()
    server = backups.versions_check(info)
    with psycopg.connect(**{k: v for k, v in info.items() if v}) as conn:
        assert conn.execute("SHOW server_version").fetchone()[0] == server
