"""The export format (JSONL + manifest.json + minisign signature + public key) and its offline check.

This module never touches the database: an auditor verifies an export with it, or with the stock
`minisign -Vm manifest.json -p published.pub` and sha256sum, against the published key (GET
/admin/audit/public-key). The export's own samia-audit.pub is a convenience copy, never trusted: whoever
rewrites an export can re-sign it and ship their own key beside it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from samia.audit import minisign, verify

FORMAT = "samia-audit-export/1"
MANIFEST = "manifest.json"
SIGNATURE = "manifest.json.minisig"
PUBLIC_KEY = "samia-audit.pub"


def rows_file_name(month: str) -> str:
    return f"audit-{month}.jsonl"


def row_line(seq: int, prev_hash: str, row_hash: str, payload: str) -> str:
    """One JSONL line: the stored payload, verbatim as a string, with its place in the chain."""
    return json.dumps(
        {"payload": payload, "prev_hash": prev_hash, "row_hash": row_hash, "seq": seq},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )


def manifest_text(manifest: dict) -> str:
    return json.dumps(manifest, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def trusted_comment(manifest: dict) -> str:
    return (
        f"samia audit export {manifest['month']} seq {manifest['first_seq']}..{manifest['last_seq']} "
        f"rows {manifest['row_count']} key {manifest['key_id']}"
    )


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class ExportReport:
    chain: verify.Report
    manifest: dict
    problems: list[str] = field(default_factory=list)  # signature and file-hash findings

    @property
    def ok(self) -> bool:
        return self.chain.ok and not self.problems


class _LineDamage(Exception):
    def __init__(self, damage: verify.Damage):
        self.damage = damage


def _rows(path: Path):
    previous_seq = 0
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                item = json.loads(line)
                row = verify.Row(item["seq"], item["prev_hash"], item["row_hash"], item["payload"])
            except (ValueError, KeyError, TypeError):
                raise _LineDamage(verify.Damage(previous_seq + 1, "modified", f"line {number} is not a row")) from None
            previous_seq = row.seq
            yield row


def verify_export(directory: Path, *, public_key: Path | str) -> ExportReport:
    """Check an export offline against the key the operator trusts (a .pub file or its text; never the copy
    in the export): the manifest's key id and signature, each file's sha256, then the chain of its rows."""
    trusted = public_key.read_text() if isinstance(public_key, Path) else public_key
    manifest_bytes = (directory / MANIFEST).read_bytes()
    manifest = json.loads(manifest_bytes)
    problems = []
    ours = minisign.public_key_id(trusted)
    if manifest.get("key_id") != ours:
        problems.append(f"key id {manifest.get('key_id')} is not ours ({ours})")
    try:
        minisign.verify(manifest_bytes, (directory / SIGNATURE).read_text(), trusted)
    except (ValueError, OSError) as error:
        problems.append(f"manifest signature: {error}")
    for entry in manifest["files"]:
        path = directory / entry["name"]
        if not path.is_file():
            problems.append(f"{entry['name']}: missing")
        elif sha256_file(path) != entry["sha256"]:
            problems.append(f"{entry['name']}: sha256 differs from the manifest")
    first_seq, last_seq = manifest["first_seq"], manifest["last_seq"]
    anchor = (first_seq - 1, manifest["first_prev_hash"])
    checkpoint = (last_seq, manifest["last_row_hash"]) if manifest["row_count"] else None
    try:
        report = verify.verify(
            _rows(directory / rows_file_name(manifest["month"])), anchor=anchor, checkpoint=checkpoint
        )
    except _LineDamage as error:
        report = verify.Report(0, None, None, None, error.damage)
    if report.ok and report.last_seq is not None and report.last_seq > last_seq:
        extra = verify.Damage(last_seq + 1, "inserted", f"rows after the manifest's last seq {last_seq}")
        report = verify.Report(report.rows, report.first_seq, report.last_seq, report.head_hash, extra)
    return ExportReport(chain=report, manifest=manifest, problems=problems)
