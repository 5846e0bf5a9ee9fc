"""Write to the audit trail: one entry, in the same transaction as the action it records."""

from __future__ import annotations

import datetime as dt
import json
import re

from django.db import connection
from django.utils import timezone

from samia.audit.models import AuditEntry
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


def record(*, action: str, actor, target=None, outcome: str = "success", details: dict | None = None) -> AuditEntry:
    """Append one audit entry in the current transaction; Postgres chains it when the transaction commits."""
    if not _ACTION.match(action):
        raise ValueError("action is a dotted code, e.g. moderation.user.block")
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome is one of {OUTCOMES}")
    details = details or {}
    _check_details(details)
    actor_id, actor_role = _actor(actor)
    target_type, target_id = _target(target)
    occurred_at = timezone.now()
    request_id = current_request_id() or ""
    payload = canonical(
        {
            "action": action,
            "actor_id": actor_id,
            "actor_role": actor_role,
            "details": details,
            "family": action.split(".", 1)[0],
            "occurred_at": utc_text(occurred_at),
            "outcome": outcome,
            "request_id": request_id,
            "target_id": target_id,
            "target_type": target_type,
        }
    )
    entry = AuditEntry(
        occurred_at=occurred_at,
        actor_id=actor_id,
        actor_role=actor_role,
        action=action,
        family=action.split(".", 1)[0],
        target_type=target_type,
        target_id=target_id,
        outcome=outcome,
        request_id=request_id,
        details=details,
        payload=payload,
    )
    # A plain INSERT, without Django's RETURNING: the writer need not be allowed to read the trail.
    columns = [f.column for f in AuditEntry._meta.concrete_fields if f.column not in _CHAINED]
    values = [
        f.get_db_prep_save(getattr(entry, f.attname), connection)
        for f in AuditEntry._meta.concrete_fields
        if f.column not in _CHAINED
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {AuditEntry._meta.db_table} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})",
            values,
        )
    return entry


_CHAINED = ("id", "seq", "prev_hash", "row_hash")
