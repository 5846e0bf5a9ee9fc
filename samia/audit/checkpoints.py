"""Checkpoints as a chain of their own: the job that signs the head and copies each checkpoint to the
witness, and the checks audit_verify makes of them (continuity, signatures, the chain's own records of
signing, and the database against the witness)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from samia.audit import minisign, services, witness
from samia.audit.models import AuditAnchor, AuditCheckpoint, AuditEntry
from samia.exceptions import Conflict, Unavailable

logger = logging.getLogger(__name__)

SIGNER = "system:audit_checkpoint"
SIGN_ACTION = "audit.checkpoint.sign"
# Beat ticks every minute; a checkpoint signed a few seconds past the minute is still due at the tick
# that ends its interval.
_TICK_SLACK = dt.timedelta(seconds=30)


class WitnessUnavailable(Unavailable):
    code = "witness_unavailable"
    default_message = "The audit witness could not be written."


@dataclass(frozen=True)
class CheckpointDamage:
    serial: int
    kind: str  # forged | modified | unlinked | missing | differs | unrecorded | rewritten
    detail: str

    def __str__(self):
        return f"first bad checkpoint {self.serial}: {self.kind} ({self.detail})"


def record_bytes(checkpoint: AuditCheckpoint) -> bytes:
    """Return the witness record of a checkpoint: its serial, signed statement and signature."""
    record = {"serial": checkpoint.serial, "signature": checkpoint.signature, "statement": checkpoint.statement}
    return (json.dumps(record, sort_keys=True, separators=(",", ":")) + "\n").encode()


def head_moved() -> bool:
    """Say whether the chain holds a row after the newest checkpoint other than the records of signing one."""
    latest = AuditCheckpoint.objects.order_by("-serial").first()
    chained = AuditEntry.objects.filter(seq__gt=latest.seq if latest else 0)
    return chained.exclude(action=SIGN_ACTION).exists()


def checkpoint_head(*, now: dt.datetime | None = None) -> AuditCheckpoint | None:
    """Sign the chain head when it moved and AUDIT_CHECKPOINT_MINUTES passed since the newest checkpoint."""
    now = now or timezone.now()
    with transaction.atomic():
        services.chain_pending()  # the chain lock is now held until this transaction ends: one signer at a time
        latest = AuditCheckpoint.objects.order_by("-serial").first()
        interval = dt.timedelta(minutes=settings.AUDIT_CHECKPOINT_MINUTES) - _TICK_SLACK
        if latest is not None and latest.signed_at > now - interval:
            return None
        if not head_moved():
            return None
        return services.checkpoint_sign(actor=SIGNER)


def witness_pending(*, store=None) -> int:
    """Write every checkpoint the witness does not hold yet, oldest first, and note each one as witnessed."""
    store = store or witness.configured()
    written = 0
    for checkpoint in AuditCheckpoint.objects.filter(witnessed_at__isnull=True).order_by("serial"):
        name, data = witness.record_name(checkpoint.serial), record_bytes(checkpoint)
        try:
            store.put(name, data)
        except witness.AlreadyWritten:
            # Written by a run that stopped before noting it; the same bytes are as good as written now.
            if store.get(name) != data:
                raise Conflict(f"the witness holds another checkpoint {checkpoint.serial}") from None
        except witness.WitnessError as error:
            logger.error("audit witness write failed", extra={"serial": checkpoint.serial, "error": str(error)})
            raise WitnessUnavailable() from error
        AuditCheckpoint.objects.filter(pk=checkpoint.pk, witnessed_at__isnull=True).update(witnessed_at=timezone.now())
        written += 1
    return written


# ---------------------------------------------------------------------------------------------
# Checks (audit_verify)


def _statement_problem(checkpoint: AuditCheckpoint, statement: dict) -> str | None:
    signed = {
        "count": checkpoint.count,
        "key_id": checkpoint.key_id,
        "row_hash": checkpoint.row_hash,
        "seq": checkpoint.seq,
        "signed_at": services.utc_text(checkpoint.signed_at),
        "serial": checkpoint.serial,
        "serial_prev_sha256": checkpoint.previous_sha256,
    }
    # Checkpoints signed before serials existed carry no serial in their statement (audit 0012).
    differing = sorted(field for field, value in signed.items() if field in statement and statement[field] != value)
    return f"{', '.join(differing)} differ from the signed statement" if differing else None


def checkpoints_verify(*, public_key: str) -> CheckpointDamage | None:
    """Return the first checkpoint that is not signed by `public_key`, breaks the serial/statement links, or
    disagrees with the chain (its row's hash, or the chain's own record of signing it); None when all hold."""
    ours = minisign.public_key_id(public_key)
    previous = None
    for checkpoint in AuditCheckpoint.objects.order_by("serial").iterator(chunk_size=2000):
        serial = checkpoint.serial
        if checkpoint.key_id != ours:
            return CheckpointDamage(serial, "forged", f"key id {checkpoint.key_id} is not ours ({ours})")
        try:
            minisign.verify(checkpoint.statement.encode(), checkpoint.signature, public_key)
            statement = json.loads(checkpoint.statement)
        except ValueError as error:
            return CheckpointDamage(serial, "forged", f"signature: {error}")
        problem = _statement_problem(checkpoint, statement)
        if problem:
            return CheckpointDamage(serial, "modified", problem)
        expected = previous.serial + 1 if previous else 1
        if serial != expected:
            return CheckpointDamage(expected, "missing", f"serial {expected} to {serial - 1} are missing")
        link = hashlib.sha256(previous.statement.encode()).hexdigest() if previous else ""
        if checkpoint.previous_sha256 != link:
            return CheckpointDamage(serial, "unlinked", "it does not link to the checkpoint before it")
        if previous and checkpoint.seq < previous.seq:
            return CheckpointDamage(serial, "unlinked", "it signs an older head than the checkpoint before it")
        previous = checkpoint
    return _against_chain()


_AT_THE_CHAIN = """
SELECT c.serial FROM audit_auditcheckpoint c LEFT JOIN audit_auditentry e ON e.seq = c.seq
 WHERE c.seq > %s AND e.row_hash IS DISTINCT FROM c.row_hash ORDER BY c.serial LIMIT 1
"""


def _against_chain() -> CheckpointDamage | None:
    """Each checkpoint's row carries the hash it signed (after a purge: from the anchor on), and the chain's
    records of signing (`audit.checkpoint.sign`) match the checkpoint rows one to one."""
    anchor = AuditAnchor.objects.order_by("-seq").first()
    after = anchor.seq if anchor else 0
    with connection.cursor() as cursor:
        cursor.execute(_AT_THE_CHAIN, [after])
        found = cursor.fetchone()
    if found:
        return CheckpointDamage(found[0], "rewritten", "the chain's row at its seq does not carry the signed hash")
    # A checkpoint's record follows the head it signed, so from the anchor on every record is still there.
    rows = {str(c.pk): c for c in AuditCheckpoint.objects.only("pk", "serial", "seq", "row_hash")}
    recorded = AuditEntry.objects.filter(seq__gt=after, action=SIGN_ACTION).values_list("target_id", "details")
    problems = []
    for target_id, details in recorded.iterator(chunk_size=2000):
        checkpoint = rows.pop(target_id, None)
        if checkpoint is None:
            serial = details.get("serial") or 0
            problems.append(CheckpointDamage(serial, "missing", "the chain records signing it; the row is gone"))
        elif (details.get("seq"), details.get("row_hash")) != (checkpoint.seq, checkpoint.row_hash):
            problems.append(CheckpointDamage(checkpoint.serial, "differs", "the chain's record of signing it differs"))
    problems += [
        CheckpointDamage(c.serial, "unrecorded", "the chain has no record of signing it")
        for c in rows.values()
        if c.seq >= after
    ]
    return min(problems, key=lambda damage: damage.serial, default=None)


def witness_compare(*, store, public_key: str) -> tuple[CheckpointDamage | None, int]:
    """Compare the checkpoints in the database with the witness's records; return the first checkpoint that
    differs or is missing on either side, and how many are not witnessed yet (written by the next job run)."""
    in_database = {c.serial: c for c in AuditCheckpoint.objects.order_by("serial")}
    in_witness = {witness.serial_of(name): name for name in store.names()}
    pending = 0
    for serial in sorted(set(in_database) | set(in_witness)):
        checkpoint = in_database.get(serial)
        if serial not in in_witness:
            if checkpoint.witnessed_at is not None:
                return CheckpointDamage(
                    serial, "missing", "noted as witnessed, but the witness does not hold it"
                ), pending
            pending += 1
            continue
        data = store.get(in_witness[serial])
        if checkpoint is None:
            return CheckpointDamage(
                serial, "missing", f"the witness holds it, the database does not{_signed(data, public_key)}"
            ), pending
        if data != record_bytes(checkpoint):
            return CheckpointDamage(serial, "differs", "the database's checkpoint differs from the witness's"), pending
    return None, pending


def _signed(data: bytes, public_key: str) -> str:
    try:
        record = json.loads(data)
        minisign.verify(record["statement"].encode(), record["signature"], public_key)
        statement = json.loads(record["statement"])
    except (ValueError, KeyError, TypeError):
        return " (and its record does not verify)"
    return f" (signed: seq {statement['seq']}, row_hash {statement['row_hash']})"
