"""Issue 14, item 6: exports verify against the key the operator trusts, never the .pub inside the export.

Whoever rewrites an export can re-sign its manifest and ship their own public key beside it; audit_verify
--export checks against the configured key, the published one (AUDIT_PUBLIC_KEY, as GET
/admin/audit/public-key serves it) or --public-key, refuses without one, and a key id that is not ours fails.
"""

import hashlib
import json

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from samia.audit import exports, minisign
from samia.audit.services import export_month
from samia.audit.verify import row_hash
from tests.audit.conftest import IN_LAST_MONTH, LAST_MONTH, write

pytestmark = pytest.mark.django_db
OURS = "0123456789ABCDEF"


@pytest.fixture
def export(tmp_path):
    """A genuine signed export of January 2026 (seq 1..5)."""
    write(5, at=IN_LAST_MONTH)
    export_month(month=LAST_MONTH, out_dir=tmp_path)
    return tmp_path


@pytest.fixture
def attacker():
    seed, key_id = minisign.generate()
    return minisign.SigningKey.from_config(seed_b64=seed, key_id_hex=key_id)


def _forge(directory, key):
    """Rewrite row 2, re-hash the rows after it, fix the manifest and re-sign it with `key`, shipping its .pub."""
    rows_path = directory / exports.rows_file_name(LAST_MONTH)
    rows = [json.loads(line) for line in rows_path.read_text().splitlines()]
    rows[1]["payload"] = rows[1]["payload"].replace("sre.test", "sre.fake")
    previous = rows[0]["prev_hash"]
    for row in rows:
        row["prev_hash"], row["row_hash"] = previous, row_hash(previous, row["payload"])
        previous = row["row_hash"]
    rows_path.write_text("".join(exports.row_line(**row) + "\n" for row in rows))
    manifest = json.loads((directory / exports.MANIFEST).read_text())
    manifest["files"][0]["sha256"] = hashlib.sha256(rows_path.read_bytes()).hexdigest()
    manifest["last_row_hash"], manifest["key_id"] = previous, key.key_id_hex
    text = exports.manifest_text(manifest).encode()
    (directory / exports.MANIFEST).write_bytes(text)
    (directory / exports.SIGNATURE).write_text(minisign.sign(text, key, trusted_comment="forged"))
    (directory / exports.PUBLIC_KEY).write_text(minisign.public_key_text(key))


def _refused(capsys, **options):
    with pytest.raises(CommandError) as refusal:
        call_command("audit_verify", **options)
    return str(refusal.value) + capsys.readouterr().out


def test_a_forged_export_re_signed_with_its_own_key_is_refused(export, attacker, capsys):
    _forge(export, attacker)
    # the forgery is consistent with the key it ships
    assert exports.verify_export(export, public_key=export / exports.PUBLIC_KEY).ok

    out = _refused(capsys, export=export)

    assert f"trusted key {OURS}: the configured key AUDIT_SIGNING_KEY" in out
    assert f"problem: key id {attacker.key_id_hex} is not ours ({OURS})" in out
    assert "problem: manifest signature: signed with another key" in out


def test_the_exports_own_public_key_is_not_ours(export, attacker, capsys):
    _forge(export, attacker)

    out = _refused(capsys, export=export, public_key=export / exports.PUBLIC_KEY)

    assert f"refused: key id {attacker.key_id_hex} is not ours ({OURS})" in out


def test_without_a_trusted_key_the_export_is_refused(export, settings, capsys):
    settings.AUDIT_SIGNING_KEY = ""
    settings.AUDIT_SIGNING_KEY_ID = ""
    settings.AUDIT_PUBLIC_KEY = ""

    out = _refused(capsys, export=export)

    assert "refused: no trusted public key" in out
    assert "GET /admin/audit/public-key" in out


def test_the_published_key_verifies_a_genuine_export_where_no_signing_key_is(export, client, settings, capsys):
    published = export.parent / "published.pub"
    published.write_bytes(client.get(reverse("audit-public-key")).content)
    settings.AUDIT_SIGNING_KEY = ""
    settings.AUDIT_SIGNING_KEY_ID = ""
    settings.AUDIT_PUBLIC_KEY = str(published)

    call_command("audit_verify", export=export)

    out = capsys.readouterr().out
    assert f"trusted key {OURS}: the published key {published}" in out
    assert "ok: seq 1..5" in out


def test_the_export_hint_names_the_published_key_not_the_copy_in_the_export(tmp_path, capsys):
    write(2, at=IN_LAST_MONTH)

    call_command("audit_export", month=LAST_MONTH, out=tmp_path)

    out = capsys.readouterr().out
    assert f"check it against the published key {OURS} (GET /admin/audit/public-key)" in out
    assert "samia-audit.pub" not in out
