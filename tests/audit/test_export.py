"""Monthly exports: signed, verifiable offline (stock minisign and audit_verify --export), idempotent, chained."""

import hashlib
import json
import shutil
import subprocess

import pytest
from django.core.management import CommandError, call_command

from samia.audit import exports, minisign
from samia.audit.models import AuditAnchor, AuditEntry, AuditExport
from samia.audit.selectors import chain_verify
from samia.audit.services import export_month, retention_purge
from tests.audit.conftest import IN_LAST_MONTH, IN_MONTH_BEFORE, LAST_MONTH, MONTH_BEFORE, write

pytestmark = pytest.mark.django_db

# `make test` installs the stock binary (apt-get install minisign); only a machine where it cannot be
# installed skips the two tests that run it.
needs_minisign = pytest.mark.skipif(
    shutil.which("minisign") is None,
    reason="the minisign binary is not installed here (make test installs it with apt-get install minisign)",
)


@pytest.fixture
def two_months():
    """Four rows in December 2025 (seq 1-4), six in January 2026 (seq 5-10), two now (seq 11-12)."""
    write(4, at=IN_MONTH_BEFORE)
    write(6, at=IN_LAST_MONTH)
    write(2)


def _files(directory):
    return {path.name: path.read_bytes() for path in sorted(directory.iterdir())}


def test_it_exports_a_month_as_jsonl_manifest_signature_and_public_key(two_months, tmp_path, signing_key):
    export = export_month(month=LAST_MONTH, out_dir=tmp_path)

    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "audit-2026-01.jsonl",
        "manifest.json",
        "manifest.json.minisig",
        "samia-audit.pub",
    ]
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    lines = [json.loads(line) for line in (tmp_path / "audit-2026-01.jsonl").read_text().splitlines()]
    entries = list(AuditEntry.objects.filter(seq__range=(5, 10)).order_by("seq"))
    assert lines == [
        {"payload": e.payload, "prev_hash": e.prev_hash, "row_hash": e.row_hash, "seq": e.seq} for e in entries
    ]
    assert manifest == {
        "format": "samia-audit-export/1",
        "month": "2026-01",
        "files": [
            {
                "name": "audit-2026-01.jsonl",
                "sha256": hashlib.sha256((tmp_path / "audit-2026-01.jsonl").read_bytes()).hexdigest(),
            }
        ],
        "row_count": 6,
        "first_seq": 5,
        "last_seq": 10,
        "first_prev_hash": entries[0].prev_hash,
        "last_row_hash": entries[-1].row_hash,
        "previous_manifest_sha256": None,
        "key_id": "0123456789ABCDEF",
        "created_at": manifest["created_at"],
    }
    assert manifest["created_at"].endswith("Z")
    assert (export.month, export.first_seq, export.last_seq, export.row_count) == ("2026-01", 5, 10, 6)
    assert export.manifest_sha256 == hashlib.sha256((tmp_path / "manifest.json").read_bytes()).hexdigest()


@needs_minisign
def test_the_stock_minisign_binary_verifies_the_export(two_months, tmp_path):
    export_month(month=LAST_MONTH, out_dir=tmp_path)

    result = subprocess.run(
        ["minisign", "-Vm", "manifest.json", "-p", "samia-audit.pub"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert "Signature and comment signature verified" in result.stdout
    assert "samia audit export 2026-01 seq 5..10 rows 6 key 0123456789ABCDEF" in result.stdout


@needs_minisign
def test_the_stock_minisign_binary_refuses_an_edited_manifest(two_months, tmp_path):
    export_month(month=LAST_MONTH, out_dir=tmp_path)
    manifest = tmp_path / "manifest.json"
    manifest.write_text(manifest.read_text().replace('"row_count": 6', '"row_count": 5'))

    result = subprocess.run(
        ["minisign", "-Vm", "manifest.json", "-p", "samia-audit.pub"], cwd=tmp_path, capture_output=True, check=False
    )

    assert result.returncode != 0


def test_audit_verify_checks_an_export_offline_without_the_database(two_months, tmp_path):
    export_month(month=LAST_MONTH, out_dir=tmp_path)
    env = {"DATABASE_URL": "postgres://nobody@127.0.0.1:1/none", "DJANGO_SETTINGS_MODULE": "tests.settings"}
    import os
    import sys

    from django.conf import settings

    result = subprocess.run(
        [sys.executable, "manage.py", "audit_verify", "--export", str(tmp_path)],
        cwd=settings.BASE_DIR,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "6 rows checked" in result.stdout and "ok: seq 5..10" in result.stdout


def _edit_lines(path, change):
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(change(lines)))


def _forge_after(lines, index):
    """Insert a correctly hashed forged row after lines[index], renumbering the rest."""
    from samia.audit.verify import row_hash

    before = json.loads(lines[index])
    payload = '{"action":"sre.test.forged"}'
    forged = {"payload": payload, "prev_hash": before["row_hash"], "row_hash": row_hash(before["row_hash"], payload)}
    forged["seq"] = before["seq"] + 1
    rest = [json.loads(line) | {"seq": json.loads(line)["seq"] + 1} for line in lines[index + 1 :]]
    return [*lines[: index + 1], *(exports.row_line(**row) + "\n" for row in [forged, *rest])]


def _swap(lines, a, b):
    first, second = json.loads(lines[a]), json.loads(lines[b])
    first["seq"], second["seq"] = second["seq"], first["seq"]
    lines[a], lines[b] = exports.row_line(**second) + "\n", exports.row_line(**first) + "\n"
    return lines


@pytest.mark.parametrize(
    ("change", "seq", "kind"),
    [
        (lambda lines: [lines[0], lines[1].replace("sre.test", "sre.fake"), *lines[2:]], 6, "modified"),
        (lambda lines: [*lines[:2], *lines[3:]], 7, "deleted"),
        (lambda lines: _forge_after(lines, 1), 7, "inserted"),
        (lambda lines: _swap(lines, 2, 3), 7, "reordered"),
        (lambda lines: lines[:4], 9, "truncated"),
        (lambda lines: [*lines[:3], "garbage\n", *lines[3:]], 8, "modified"),
    ],
    ids=["payload", "middle-row", "forged-row", "swapped-rows", "tail", "garbage-line"],
)
def test_audit_verify_names_the_first_damage_in_an_edited_export(
    two_months, tmp_path, change, seq, kind, capsys, signing_key
):
    # given a signed export of seq 5..10
    export_month(month=LAST_MONTH, out_dir=tmp_path)
    call_command("audit_verify", export=tmp_path)

    # when its JSONL is edited
    _edit_lines(tmp_path / "audit-2026-01.jsonl", change)

    # then the file hash no longer matches the signed manifest, and the chain names the damage
    report = exports.verify_export(tmp_path, public_key=minisign.public_key_text(signing_key))
    assert (report.chain.damage.seq, report.chain.damage.kind) == (seq, kind), report.chain.damage
    assert report.problems == ["audit-2026-01.jsonl: sha256 differs from the manifest"]
    with pytest.raises(CommandError):
        call_command("audit_verify", export=tmp_path)
    assert f"first bad seq {seq}, kind {kind}" in capsys.readouterr().out


def test_audit_verify_refuses_a_signature_from_another_key(two_months, tmp_path):

    export_month(month=LAST_MONTH, out_dir=tmp_path)
    seed, key_id = minisign.generate()
    other = minisign.SigningKey.from_config(seed_b64=seed, key_id_hex=key_id)
    (tmp_path / "other.pub").write_text(minisign.public_key_text(other))

    report = exports.verify_export(tmp_path, public_key=tmp_path / "other.pub")

    assert report.chain.ok and not report.ok
    # The manifest names our key id, which is not the one the caller trusts here.
    assert report.problems == [
        f"key id 0123456789ABCDEF is not ours ({key_id})",
        "manifest signature: signed with another key",
    ]


def test_exporting_a_month_again_writes_the_same_files_and_no_second_record(two_months, tmp_path):
    first = export_month(month=LAST_MONTH, out_dir=tmp_path / "one")
    write(3)  # later rows change nothing in a finished month
    again = export_month(month=LAST_MONTH, out_dir=tmp_path / "two")

    assert again.pk == first.pk
    assert AuditExport.objects.count() == 1
    assert _files(tmp_path / "one") == _files(tmp_path / "two")


def test_manifests_are_chained_month_to_month(two_months, tmp_path):
    december = export_month(month=MONTH_BEFORE, out_dir=tmp_path / MONTH_BEFORE)
    january = export_month(month=LAST_MONTH, out_dir=tmp_path / LAST_MONTH)

    manifest = json.loads((tmp_path / LAST_MONTH / "manifest.json").read_text())
    assert (december.first_seq, december.last_seq, january.first_seq) == (1, 4, 5)
    assert manifest["previous_manifest_sha256"] == december.manifest_sha256
    assert (
        manifest["first_prev_hash"]
        == json.loads((tmp_path / MONTH_BEFORE / "manifest.json").read_text())["last_row_hash"]
    )


@pytest.mark.parametrize("month", ["2026-13", "January", "2099-01"])
def test_the_command_refuses_a_bad_or_unfinished_month(month, tmp_path):
    with pytest.raises(CommandError):
        call_command("audit_export", month=month, out=tmp_path)
    assert not AuditExport.objects.exists()


def test_the_command_and_the_monthly_task_share_the_same_code(two_months, tmp_path, settings, capsys):
    from unittest import mock

    from samia.audit import tasks

    settings.AUDIT_EXPORT_DIR = tmp_path / "job"
    call_command("audit_export", month=LAST_MONTH, out=tmp_path / "command")
    assert "seq 5..10 (6 rows)" in capsys.readouterr().out

    with mock.patch("samia.audit.tasks.previous_month", return_value=LAST_MONTH):
        result = tasks.export_previous_month()

    assert result["month"] == LAST_MONTH
    assert _files(tmp_path / "command") == _files(tmp_path / "job" / LAST_MONTH)


def test_previous_month():
    import datetime as dt

    from samia.audit.tasks import previous_month

    assert previous_month(dt.date(2026, 1, 1)) == "2025-12"
    assert previous_month(dt.date(2026, 3, 31)) == "2026-02"


def test_the_schedules_are_installed_by_migration():
    from django_celery_beat.models import PeriodicTask

    tasks = {t.name: t for t in PeriodicTask.objects.filter(name__startswith="samia.audit.")}
    export = tasks["samia.audit.export_previous_month"]
    assert (export.crontab.minute, export.crontab.hour, export.crontab.day_of_month, str(export.crontab.timezone)) == (
        "0",
        "3",
        "1",
        "UTC",
    )
    assert tasks["samia.audit.retention_purge"].enabled


def test_retention_purges_only_exported_months_and_the_chain_still_verifies(two_months, tmp_path, capsys):
    import datetime as dt

    # nothing is exported: nothing is purged
    assert retention_purge(before=dt.date(2026, 6, 1)) is None
    assert AuditEntry.objects.count() == 12

    # December is exported, January not: December's rows go, behind an anchor
    december = export_month(month=MONTH_BEFORE, out_dir=tmp_path)
    anchor = retention_purge(before=dt.date(2026, 6, 1))

    assert (anchor.seq, anchor.row_hash, anchor.manifest_sha256) == (
        4,
        december.last_row_hash,
        december.manifest_sha256,
    )
    assert list(AuditEntry.objects.order_by("seq").values_list("seq", flat=True)) == list(range(5, 13))
    report = chain_verify()
    assert (report.ok, report.rows, report.first_seq) == (True, 8, 5)
    call_command("audit_verify")

    # a month that ended after the cutoff stays
    export_month(month=LAST_MONTH, out_dir=tmp_path / "jan")
    assert retention_purge(before=dt.date(2026, 1, 31)) is None
    assert AuditAnchor.objects.count() == 1

    # new entries still chain onto the remaining rows, and the next purge moves the anchor
    write(1)
    assert retention_purge(before=dt.date(2026, 2, 1)).seq == 10
    report = chain_verify()
    assert (report.ok, report.first_seq, report.last_seq) == (True, 11, 13)
