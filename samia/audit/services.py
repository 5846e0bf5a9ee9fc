"""Write to the audit trail: one entry, in the same transaction as the action it records."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from samia.audit import exports, minisign
from samia.audit.models import AuditAnchor, AuditCheckpoint, AuditEntry, AuditExport
from samia.audit.verify import ZERO_HASH, row_hash
from samia.exceptions import Unavailable
from samia.logging import current_request_id
from samia.rls.registry import Identity

OUTCOMES = ("success", "denied", "failure")
_ACTION = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")
# Details hold IDs, codes and hashes only: short tokens, never free text.
_CODE = re.compile(r"^[A-Za-z0-9_.:\-]{0,64}$")


def canonical(payload: dict) -> str:
    """Sorted-key compact JSON: the exact text each row is hashed from."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def utc_text(moment: dt.datetime) -> str:
    """Render `moment` in UTC with microseconds and a Z, as the payloads store it."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _check_details(value, path="details"):
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str) or not _CODE.match(key):
                raise ValueError(f"{path}: keys must be short codes")
            _check_details(item, f"{path}.{key}")
    elif isinstance(value, list):
        for item in value:
            _check_details(item, path)
    elif isinstance(value, str):
        if not _CODE.match(value):
            raise ValueError(f"{path}: audit details hold IDs, codes and hashes only")
    elif value is not None and not isinstance(value, bool | int):
        raise ValueError(f"{path}: {type(value).__name__} is not allowed in audit details")


def _actor(actor) -> tuple[int | None, str]:
    if isinstance(actor, str):
        if not actor.startswith("system:"):
            raise ValueError("a non-user actor is named system:<job>")
        return None, actor
    identity = actor if isinstance(actor, Identity) else Identity.of(actor)
    return identity.user_id, identity.role or "anonymous"


def _target(target) -> tuple[str, str]:
    if target is None:
        return "", ""
    if isinstance(target, tuple):
        kind, key = target
        return str(kind), str(key)
    return target._meta.label_lower, str(target.pk)


def record(
    *, action: str, actor, target=None, outcome: str = "success", details: dict | None = None, cursor=None
) -> None:
    """Append one audit entry in the current transaction; Postgres chains it when the transaction commits.

    Only the canonical payload is written (a plain INSERT, without RETURNING: the writer need not be
    allowed to read the trail). Postgres generates every other column from it and gives the row its
    place in the chain at commit (migration 0009: group chaining).
    """
    if not _ACTION.match(action):
        raise ValueError("action is a dotted code, e.g. moderation.user.block")
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome is one of {OUTCOMES}")
    details = details or {}
    _check_details(details)
    actor_id, actor_role = _actor(actor)
    target_type, target_id = _target(target)
    payload = canonical(
        {
            "action": action,
            "actor_id": actor_id,
            "actor_role": actor_role,
            "details": details,
            "family": action.split(".", 1)[0],
            "occurred_at": utc_text(timezone.now()),
            "outcome": outcome,
            "request_id": current_request_id() or "",
            "target_id": target_id,
            "target_type": target_type,
        }
    )
    if cursor is not None:  # a connection of the caller's own (the owner's, for system entries made in a request)
        cursor.execute(_INSERT, [payload])
        return
    with connection.cursor() as cursor:
        cursor.execute(_INSERT, [payload])


_INSERT = f"INSERT INTO {AuditEntry._meta.db_table} (payload) VALUES (%s)"


def chain_pending() -> int:
    """Chain the committed entries that still wait for their place (their commit found the chain lock taken).

    Waits for the chain lock; returns how many rows it chained. The periodic sweep calls it, and so do
    whatever reads the head (checkpoints, exports, audit_verify) so that they see every committed entry.
    """
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT samia.audit_chain_sweep()")
        return cursor.fetchone()[0]


def _head() -> tuple[int, str, int]:
    """The chain head (seq, row_hash) and the number of rows up to it, read in one snapshot."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT h.seq, h.row_hash, (SELECT count(*) FROM audit_auditentry WHERE seq <= h.seq) "
            "FROM (SELECT seq, row_hash FROM audit_auditentry WHERE seq IS NOT NULL "
            "      UNION ALL SELECT seq, row_hash FROM audit_auditanchor ORDER BY seq DESC LIMIT 1) h"
        )
        found = cursor.fetchone()
    return (found[0], found[1], found[2]) if found else (0, ZERO_HASH, 0)


class SigningKeyMissing(Unavailable):
    """The API's answer when no signing key is configured; the cause stays in the server's configuration."""

    code = "signing_unavailable"
    default_message = "No audit signing key is configured."


def signing_key() -> minisign.SigningKey:
    """Return the configured audit signing key, or raise SigningKeyMissing."""
    try:
        return minisign.configured_key()
    except minisign.SigningUnavailable:
        raise SigningKeyMissing() from None


@transaction.atomic
def checkpoint_sign(*, actor) -> AuditCheckpoint:
    """Sign the current chain head {seq, row_hash, count, serial, signed_at, key_id} and record that it was signed."""
    key = signing_key()
    chain_pending()  # sign the head of every committed entry; the lock is then held until this commit
    seq, head_hash, count = _head()
    signed_at = timezone.now()
    # Checkpoints chain too (serial, and the sha256 of the statement before), under the same lock.
    previous = AuditCheckpoint.objects.order_by("-serial").first()
    serial = previous.serial + 1 if previous else 1
    previous_sha256 = hashlib.sha256(previous.statement.encode()).hexdigest() if previous else ""
    statement = canonical(
        {
            "count": count,
            "key_id": key.key_id_hex,
            "row_hash": head_hash,
            "seq": seq,
            "serial": serial,
            "serial_prev_sha256": previous_sha256,
            "signed_at": utc_text(signed_at),
        }
    )
    signature = minisign.sign(
        statement.encode(), key, trusted_comment=f"samia audit checkpoint seq {seq} row_hash {head_hash}"
    )
    actor_id, _ = _actor(actor)
    checkpoint = AuditCheckpoint.objects.create(
        serial=serial,
        previous_sha256=previous_sha256,
        seq=seq,
        row_hash=head_hash,
        count=count,
        signed_at=signed_at,
        key_id=key.key_id_hex,
        statement=statement,
        signature=signature,
        signed_by_id=actor_id,
    )
    record(
        action="audit.checkpoint.sign",
        actor=actor,
        target=("audit.auditcheckpoint", checkpoint.pk),
        details={"seq": seq, "row_hash": head_hash, "key_id": key.key_id_hex, "serial": serial},
    )
    return checkpoint


def month_bounds(month: str) -> tuple[dt.datetime, dt.datetime]:
    """Return the UTC start of `month` (YYYY-MM) and of the month after it."""
    match = re.fullmatch(r"(\d{4})-(\d{2})", month)
    if not match or not 1 <= int(match[2]) <= 12:
        raise ValueError("month is YYYY-MM")
    year, number = int(match[1]), int(match[2])
    start = dt.datetime(year, number, 1, tzinfo=dt.UTC)
    end = dt.datetime(year + number // 12, number % 12 + 1, 1, tzinfo=dt.UTC)
    return start, end


def _hash_at(seq: int) -> str:
    if seq == 0:
        return ZERO_HASH
    found = AuditEntry.objects.filter(seq=seq).values_list("row_hash", flat=True).first()
    found = found or AuditAnchor.objects.filter(seq=seq).values_list("row_hash", flat=True).first()
    if found is None:
        raise ValueError(f"seq {seq} is neither in the trail nor an anchor")
    return found


def _month_range(month: str, start: dt.datetime, end: dt.datetime) -> tuple[int, int]:
    """The contiguous seq range (lower, upper] of a month: it follows the previous month's range and ends at the
    last row that occurred before the month ended. A row committed late lands in the next month's range."""
    existing = AuditExport.objects.filter(month=month).first()
    if existing:
        return existing.first_seq - 1, existing.last_seq
    chained = AuditEntry.objects.filter(seq__isnull=False)
    lower = chained.filter(occurred_at__lt=start).aggregate(m=Max("seq"))["m"] or 0
    earlier = AuditExport.objects.filter(month__lt=month).aggregate(m=Max("last_seq"))["m"]
    anchor = AuditAnchor.objects.aggregate(m=Max("seq"))["m"]
    lower = max(lower, earlier or 0, anchor or 0)
    upper = chained.filter(occurred_at__lt=end).aggregate(m=Max("seq"))["m"] or 0
    return lower, max(lower, upper)


def export_month(*, month: str, out_dir: Path) -> AuditExport:
    """Write the signed export of `month` into `out_dir`; exporting a month again writes the same files."""
    start, end = month_bounds(month)
    if end > timezone.now():
        raise ValueError(f"{month} has not ended yet; only a finished month is exported")
    key = minisign.configured_key()
    chain_pending()  # an entry of the month committed just now is chained before the range is cut
    existing = AuditExport.objects.filter(month=month).first()
    lower, upper = _month_range(month, start, end)
    previous = AuditExport.objects.filter(month__lt=month).order_by("-month").first()
    out_dir.mkdir(parents=True, exist_ok=True)
    rows_name = exports.rows_file_name(month)
    partial = out_dir / f".{rows_name}.partial"
    digest, count, first_prev, last_hash = hashlib.sha256(), 0, _hash_at(lower), None
    entries = (
        AuditEntry.objects.filter(seq__gt=lower, seq__lte=upper)
        .order_by("seq")
        .values_list("seq", "prev_hash", "row_hash", "payload")
    )
    checked = verify_rows(entries, lower, first_prev)
    try:
        with partial.open("w", encoding="utf-8", newline="\n") as handle:
            for row in checked:
                line = exports.row_line(*row) + "\n"
                handle.write(line)
                digest.update(line.encode())
                count, last_hash = count + 1, row[2]
    except ValueError:
        partial.unlink()
        raise
    if count != upper - lower:
        partial.unlink()
        raise ValueError(f"seq {lower + 1}..{upper} has {count} rows; run audit_verify")
    manifest = {
        "format": exports.FORMAT,
        "month": month,
        "files": [{"name": rows_name, "sha256": digest.hexdigest()}],
        "row_count": count,
        "first_seq": lower + 1,
        "last_seq": upper,
        "first_prev_hash": first_prev,
        "last_row_hash": last_hash or first_prev,
        "previous_manifest_sha256": previous.manifest_sha256 if previous else None,
        "key_id": key.key_id_hex,
        "created_at": utc_text(existing.created_at if existing else timezone.now()),
    }
    text = exports.manifest_text(manifest).encode()
    manifest_sha256 = hashlib.sha256(text).hexdigest()
    if existing and existing.manifest_sha256 != manifest_sha256:
        partial.unlink()
        raise ValueError(f"{month} was exported before with another manifest ({existing.manifest_sha256})")
    partial.replace(out_dir / rows_name)
    (out_dir / exports.MANIFEST).write_bytes(text)
    signature = minisign.sign(text, key, trusted_comment=exports.trusted_comment(manifest))
    (out_dir / exports.SIGNATURE).write_text(signature)
    (out_dir / exports.PUBLIC_KEY).write_text(minisign.public_key_text(key))
    if existing:
        return existing
    return AuditExport.objects.create(
        month=month,
        first_seq=lower + 1,
        last_seq=upper,
        row_count=count,
        last_row_hash=manifest["last_row_hash"],
        manifest_sha256=manifest_sha256,
        key_id=key.key_id_hex,
        created_at=parse_datetime(manifest["created_at"]),
    )


def verify_rows(entries, after: int, prev_hash: str):
    """Yield (seq, prev_hash, row_hash, payload) rows, refusing at the first that does not chain."""
    expected_seq, expected_prev = after + 1, prev_hash
    for seq, row_prev, stored_hash, payload in entries.iterator(chunk_size=10_000):
        if seq != expected_seq or row_prev != expected_prev or row_hash(row_prev, payload) != stored_hash:
            raise ValueError(f"the chain is damaged at seq {seq}; run audit_verify")
        expected_seq, expected_prev = seq + 1, stored_hash
        yield seq, row_prev, stored_hash, payload


def retention_cutoff(*, today: dt.date | None = None) -> dt.date:
    """The first day whose audit rows are kept: AUDIT_RETENTION_DAYS (default 400) before today (UTC)."""
    today = today or timezone.now().date()
    return today - dt.timedelta(days=settings.AUDIT_RETENTION_DAYS)


@transaction.atomic
def retention_purge(*, before: dt.date) -> AuditAnchor | None:
    """Purge the rows of exported months that ended by `before`, behind an anchor; None when nothing is due."""
    anchor = AuditAnchor.objects.order_by("-seq").first()
    covered, chosen = (anchor.seq if anchor else 0), None
    for export in AuditExport.objects.order_by("first_seq"):
        if month_bounds(export.month)[1].date() > before:
            break
        if export.last_seq <= covered or export.row_count == 0:
            continue
        if export.first_seq > covered + 1:
            break  # an unexported gap: nothing after it is covered
        covered, chosen = export.last_seq, export
    if chosen is None:
        return None
    if _hash_at(chosen.last_seq) != chosen.last_row_hash:
        raise ValueError(f"seq {chosen.last_seq} does not carry the hash its export signed; run audit_verify")
    new_anchor = AuditAnchor.objects.create(
        seq=chosen.last_seq,
        row_hash=chosen.last_row_hash,
        purged_at=timezone.now(),
        manifest_sha256=chosen.manifest_sha256,
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('samia.audit_purging', 'on', true)")
        cursor.execute("DELETE FROM audit_auditentry WHERE seq <= %s", [chosen.last_seq])
        cursor.execute("SELECT set_config('samia.audit_purging', '', true)")
    return new_anchor
