"""Append events and keep the monthly partitions of events_raw."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re

from django.conf import settings
from django.db import connection
from django.utils import timezone

from samia.events.models import EventRaw
from samia.events.registry import schema_for
from samia.rls.registry import Identity

_PARTITION = re.compile(r"^events_raw_(\d{4})_(\d{2})$")


def actor_key(value: str) -> str:
    """A keyed hash that stands in for a caller without an account (a device, a session)."""
    return hmac.new(settings.EVENTS_HASH_KEY.encode(), value.encode(), hashlib.sha256).hexdigest()[:32]


def _subject(subject) -> tuple[str, int | None]:
    if subject is None:
        return "", None
    if isinstance(subject, tuple):
        return str(subject[0]), int(subject[1])
    return subject._meta.label_lower, subject.pk


def emit(
    name: str,
    version: int,
    *,
    actor=None,
    anonymous_key: str = "",
    subject=None,
    properties: dict | None = None,
    occurred_at: dt.datetime | None = None,
) -> None:
    """Validate an event against its schema and append it in the current transaction."""
    clean = schema_for(name, version).validate(properties or {})
    identity = actor if isinstance(actor, Identity) or actor is None else Identity.of(actor)
    subject_type, subject_id = _subject(subject)
    occurred_at = occurred_at or timezone.now()
    if occurred_at.tzinfo is None:
        raise ValueError("occurred_at must be timezone-aware")
    fields = {
        "occurred_at": occurred_at,
        "name": name,
        "version": version,
        "actor_id": identity.user_id if identity else None,
        "actor_key": actor_key(anonymous_key) if anonymous_key else "",
        "subject_type": subject_type,
        "subject_id": subject_id,
        "properties": clean,
    }
    values = [EventRaw._meta.get_field(k).get_db_prep_save(v, connection) for k, v in fields.items()]
    # A plain INSERT: writers need not be allowed to read events back (no RETURNING).
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO events_raw ({', '.join(fields)}) VALUES ({', '.join(['%s'] * len(fields))})", values
        )


def partitions() -> list[tuple[str, dt.date]]:
    """Return (name, first day) of every monthly partition of events_raw, oldest first."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'public.events_raw'::regclass"
        )
        names = [r[0] for r in cursor.fetchall()]
    found = []
    for name in names:
        match = _PARTITION.match(name)
        if match:
            found.append((name, dt.date(int(match[1]), int(match[2]), 1)))
    return sorted(found, key=lambda item: item[1])


def partitions_maintain(*, months_ahead: int = 2, today: dt.date | None = None) -> dict:
    """Create the coming months' partitions and drop those wholly older than the retention window."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT samia.events_ensure_partitions(%s, 0)", [months_ahead])
        created = cursor.fetchone()[0]
    today = today or timezone.now().date()
    cutoff = today - dt.timedelta(days=settings.EVENTS_RAW_RETENTION_DAYS)
    dropped = []
    for name, first_day in partitions():
        next_month = (first_day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        if next_month <= cutoff:
            with connection.cursor() as cursor:
                cursor.execute(f'DROP TABLE public."{name}"')
            dropped.append(name)
    return {"created": created, "dropped": dropped}


def next_month_partition_missing(now: dt.datetime | None = None) -> str | None:
    """Name the partition for next month if it does not exist yet (readiness fails then)."""
    now = now or timezone.now()
    first = now.astimezone(dt.UTC).date().replace(day=1)
    next_month = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    name = f"events_raw_{next_month:%Y_%m}"
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [f"public.{name}"])
        exists = cursor.fetchone()[0] is not None
    return None if exists else name
