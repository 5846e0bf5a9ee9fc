"""Append events, keep the monthly partitions of events_raw, and record app sessions and horoscope listens."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from samia.events.models import EventRaw
from samia.events.registry import schema_for
from samia.redis import get_redis
from samia.rls.registry import Identity

_PARTITION = re.compile(r"^events_raw_(\d{4})_(\d{2})$")
# What a client may send as X-Device-Id: an install or browser id, never stored (its keyed hash is).
DEVICE_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")
# At most one app session counts per actor in this many seconds.
SESSION_GAP_SECONDS = 30 * 60
# A listen's day is kept long enough to outlive any business day it can fall on.
LISTEN_DAY_SECONDS = 2 * 24 * 3600


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


#
# Engagement: app sessions and horoscope listens, deduplicated in Redis before they reach events_raw
#


def _redis_key(*parts) -> str:
    return ":".join((settings.CACHES["default"]["KEY_PREFIX"], "events", *map(str, parts)))


def engagement_actor(*, identity: Identity, device_id: str = "") -> str:
    """Name the caller as the rollups do: `u:<user id>`, or `k:<keyed hash of the device id>` without an account."""
    if identity.user_id is not None:
        return f"u:{identity.user_id}"
    if not DEVICE_ID.match(device_id or ""):
        message = "Callers without an account send X-Device-Id: 8 to 128 letters, digits or ._:- characters."
        raise ValidationError({"X-Device-Id": [message]})
    return f"k:{actor_key(device_id)}"


def request_retry_after(*, scope: str, caller: str) -> int:
    """Count one engagement request of `caller`; return the seconds to wait when past the limit, else 0."""
    key = _redis_key("rate", scope, caller)
    pipe = get_redis().pipeline()
    pipe.incr(key)
    pipe.expire(key, 60, nx=True)
    pipe.ttl(key)
    count, _, ttl = pipe.execute()
    return 0 if count <= settings.EVENTS_REQUESTS_PER_MINUTE else max(ttl, 1)


def session_start(*, user, device_id: str = "", platform: str, app_version: str = "") -> bool:
    """Record that the caller opened the app; return False (nothing written) within 30 minutes of the last one."""
    identity = Identity.of(user)
    key = _redis_key("session", engagement_actor(identity=identity, device_id=device_id))
    # The claim and its expiry are one atomic SET: two concurrent starts cannot both count.
    if not get_redis().set(key, 1, nx=True, ex=SESSION_GAP_SECONDS):
        return False
    properties = {"platform": platform, "app_version": app_version}
    if identity.user_id is not None:
        properties |= {"country": user.country, "language": user.language}
    try:
        emit(
            "app.session",
            2,
            actor=identity,
            anonymous_key=device_id if identity.user_id is None else "",
            properties=properties,
        )
    except Exception:
        get_redis().delete(key)
        raise
    return True


# Raise the stored percent only above what it holds; 1 when it rose (the caller then emits), else 0.
_RAISE_PERCENT = """
local best = tonumber(redis.call('GET', KEYS[1]) or '-1')
if tonumber(ARGV[1]) <= best then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return 1
"""


def horoscope_listen(*, user, device_id: str = "", horoscope, percent: int, seconds: int | None = None) -> bool:
    """Record how far the caller listened to `horoscope` today; return False (nothing written) unless the percent rose."""
    # Each rise is one event: readers take the highest percent per (actor, horoscope, business day).
    identity = Identity.of(user)
    actor = engagement_actor(identity=identity, device_id=device_id)
    day = timezone.now().astimezone(ZoneInfo(settings.ANALYTICS_TIMEZONE)).date()
    key = _redis_key("listen", actor, horoscope.pk, f"{day:%Y%m%d}")
    client = get_redis()
    if not client.register_script(_RAISE_PERCENT)(keys=[key], args=[percent, LISTEN_DAY_SECONDS]):
        return False
    properties = {"sign": horoscope.sign, "percent": percent, "horoscope_id": horoscope.pk}
    if seconds is not None:
        properties["seconds"] = seconds
    try:
        emit(
            "horoscope.listened",
            2,
            actor=identity,
            anonymous_key=device_id if identity.user_id is None else "",
            subject=horoscope,
            properties=properties,
        )
    except Exception:
        client.delete(key)  # a later report of the same percent may then count
        raise
    return True
