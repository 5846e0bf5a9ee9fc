"""Reads of the audit trail: verify the live chain, the latest checkpoint, the entries a caller may see."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.db import DatabaseError, connection, transaction
from django.db.models import QuerySet

from samia.audit import policies, verify
from samia.audit.models import AuditAnchor, AuditCheckpoint, AuditEntry
from samia.rls.registry import Identity

CHUNK = 10_000

# Every column that repeats a payload field is GENERATED ALWAYS AS (...) STORED from the payload
# (migration 0008), so it cannot disagree with the payload and the chain needs only its hashes and
# links checked. What a superuser could still do is change the definition (ALTER COLUMN ... DROP
# EXPRESSION, or drop a column and add it back with another expression, or replace the time
# function) and then edit the column. chain_verify() therefore compares the definition, as Postgres
# deparses it, with this one (a query on the catalog per run) and, when it differs, compares every
# row's columns with its payload (in SQL) and reports the alteration as damage.
GENERATED = {
    "action": "((payload)::jsonb ->> 'action'::text)",
    "actor_id": "(((payload)::jsonb ->> 'actor_id'::text))::bigint",
    "actor_role": "((payload)::jsonb ->> 'actor_role'::text)",
    "details": "((payload)::jsonb -> 'details'::text)",
    "family": "((payload)::jsonb ->> 'family'::text)",
    "occurred_at": "samia.audit_utc_time(((payload)::jsonb ->> 'occurred_at'::text))",
    "outcome": "((payload)::jsonb ->> 'outcome'::text)",
    "request_id": "((payload)::jsonb ->> 'request_id'::text)",
    "target_id": "((payload)::jsonb ->> 'target_id'::text)",
    "target_type": "((payload)::jsonb ->> 'target_type'::text)",
}
# md5 of the body of samia.audit_utc_time(text) as migration 0008 created it.
UTC_TIME_MD5 = "66072c0b0646012f05e4ccb342afa530"

_DEFINITION = (
    "SELECT c.name, a.attgenerated::text, pg_get_expr(d.adbin, d.adrelid) "
    "FROM unnest(%s::text[]) c(name) "
    "LEFT JOIN pg_attribute a ON a.attrelid = 'audit_auditentry'::regclass AND a.attname = c.name "
    "AND NOT a.attisdropped "
    "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum"
)
_UTC_TIME = (
    "SELECT p.provolatile::text, md5(p.prosrc) FROM pg_proc p "
    "WHERE p.oid = to_regprocedure('samia.audit_utc_time(text)')"
)

_COLUMNS_AGREE = (
    "(e.payload::jsonb - 'occurred_at') = jsonb_build_object("
    + ", ".join(f"'{column}', e.{column}" for column in verify.PAYLOAD_COLUMNS if column != "occurred_at")
    + ") AND to_char(e.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') "
    "= e.payload::jsonb ->> 'occurred_at'"
)
_ROWS = "SELECT e.seq, e.prev_hash, e.row_hash, e.payload, {problem} FROM audit_auditentry e "
_ROWS += "WHERE e.seq > %s ORDER BY e.seq"
_CHECKED_ROWS = _ROWS.format(
    problem=f"CASE WHEN {_COLUMNS_AGREE} THEN NULL ELSE 'its columns differ from its payload' END"
)
_HASHED_ROWS = _ROWS.format(problem="NULL")


def definition_altered() -> str | None:
    """Say how the payload columns are no longer generated from the payload as migration 0008 defined, or None."""
    with connection.cursor() as cursor:
        cursor.execute(_DEFINITION, [list(GENERATED)])
        found = cursor.fetchall()
        cursor.execute(_UTC_TIME)
        utc_time = cursor.fetchone()
    altered = [name for name, generated, expression in found if generated != "s" or expression != GENERATED[name]]
    if altered:
        return f"column {', '.join(sorted(altered))} no longer generated from the payload"
    if utc_time != ("i", UTC_TIME_MD5):
        return "samia.audit_utc_time() was altered"
    return None


def anchor_latest() -> AuditAnchor | None:
    """Return the newest retention anchor, if rows were ever purged."""
    return AuditAnchor.objects.order_by("-seq").first()


def checkpoint_latest() -> AuditCheckpoint | None:
    """Return the newest signed checkpoint of the chain head."""
    return AuditCheckpoint.objects.order_by("-seq", "-id").first()


def _rows(after: int, *, columns: bool) -> Iterator[verify.Row]:
    with transaction.atomic(), connection.chunked_cursor() as cursor:
        cursor.execute(_CHECKED_ROWS if columns else _HASHED_ROWS, [after])
        while chunk := cursor.fetchmany(CHUNK):
            yield from map(verify.Row._make, chunk)


def chain_verify() -> verify.Report:
    """Recompute the live chain from the newest anchor (or the genesis) and check it against the newest checkpoint.

    Hashes and links only, as long as the payload columns are still generated from the payload; when their
    definition was altered, each row's columns are compared with its payload too and the alteration is damage.
    Committed entries still waiting for their place are chained first, so that the report covers them.
    """
    from samia.audit.services import chain_pending

    chain_pending()
    anchor = anchor_latest()
    checkpoint = checkpoint_latest()
    start = (anchor.seq, anchor.row_hash) if anchor else None
    head = (checkpoint.seq, checkpoint.row_hash) if checkpoint and checkpoint.seq > 0 else None
    after = anchor.seq if anchor else 0
    altered = definition_altered()
    rows = _rows(after, columns=altered is not None)
    try:
        report = verify.verify(rows, anchor=start, checkpoint=head)
    except DatabaseError:  # columns dropped, or a payload that is not JSON: hashes and links still name the row
        report = verify.verify(_rows(after, columns=False), anchor=start, checkpoint=head)
    finally:
        rows.close()
    if report.ok and altered:
        damage = verify.Damage(report.first_seq or after + 1, "modified", altered)
        report = verify.Report(report.rows, report.first_seq, report.last_seq, report.head_hash, damage)
    return report


def entry_list(
    *,
    identity: Identity,
    actor_id: int | None = None,
    action: str | None = None,
    target_type: str | None = None,
    target_id: str | None = None,
    outcome: str | None = None,
    occurred_from: dt.datetime | None = None,
    occurred_to: dt.datetime | None = None,
) -> QuerySet[AuditEntry]:
    """Return the chained entries `identity` may read, filtered, newest first."""
    entries = policies.AUDIT.scope(AuditEntry.objects.filter(seq__isnull=False), identity)
    filters = {
        "actor_id": actor_id,
        "action": action,
        "target_type": target_type,
        "target_id": target_id,
        "outcome": outcome,
        "occurred_at__gte": occurred_from,
        "occurred_at__lt": occurred_to,
    }
    return entries.filter(**{key: value for key, value in filters.items() if value is not None}).order_by("-seq")


def entries_verify(entries: list[AuditEntry]) -> dict[int, bool]:
    """Return, per seq, whether the row's hash matches its payload and its prev_hash the row before it."""
    wanted = [entry.seq - 1 for entry in entries]
    with connection.cursor() as cursor:
        cursor.execute("SELECT seq, row_hash FROM samia.audit_row_hashes(%s::bigint[])", [wanted])
        before = dict(cursor.fetchall())
    before[0] = verify.ZERO_HASH
    return {
        entry.seq: entry.row_hash == verify.row_hash(entry.prev_hash, entry.payload)
        and before.get(entry.seq - 1) == entry.prev_hash
        for entry in entries
    }
