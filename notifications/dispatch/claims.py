"""Claiming due sends: reap lapsed leases, claim a batch with FOR UPDATE SKIP LOCKED, load it.

A claim marks the sends queued with a lease and commits at once; no lock outlives the claim.
Loading reads, per batch, what rendering needs: the recipient's phone and zone, the campaign,
notification or horoscope, and the user's active devices.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from notifications.dispatch.messages import render, sms_measure
from notifications.models import OPT_IN_PURPOSES, Channel, DeviceToken
from notifications.services import address_hash
from samia.marketplace import publishing

# A push goes to at most this many of a user's devices (the most recently registered).
MAX_DEVICES = 5


@dataclass
class Work:
    """One claimed send and what rendering it needs (loaded per batch)."""

    id: int
    user_id: int
    channel: str
    purpose: str
    critical: bool
    kind: str
    subject_id: int | None
    language: str
    expires_at: dt.datetime
    attempts: int
    campaign_id: int | None
    notification_id: int | None
    phone: str
    zone: str
    lease_until: dt.datetime
    message: dict = field(default_factory=dict)
    devices: list[DeviceToken] = field(default_factory=list)
    address_hash: str = ""  # SMS/WhatsApp: the keyed hash of `phone`
    first_contact: bool = False  # no earlier text reached this number on this channel
    encoding: str = ""  # SMS: of the rendered text
    segments: int | None = None


def leases_reap() -> int:
    """Settle the sends whose dispatcher died: retry what never left, mark the rest unknown."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE notifications_send SET
                state = CASE WHEN in_flight_since IS NOT NULL AND channel <> 'push' THEN 'unknown' ELSE 'queued' END,
                last_error = CASE WHEN in_flight_since IS NOT NULL THEN 'worker_lost' ELSE last_error END,
                lease_until = NULL,
                in_flight_since = NULL,
                state_changed_at = clock_timestamp()
            WHERE state = 'queued' AND lease_until < %s
            """,
            [timezone.now()],
        )
        return cursor.rowcount


def claim(batch_size: int) -> list[int]:
    """Claim up to `batch_size` due sends of live campaigns or single notifications; return their ids."""
    lease = dt.timedelta(seconds=settings.NOTIFICATIONS_LEASE_SECONDS)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            """
            WITH due AS (
                SELECT s.id FROM notifications_send s
                WHERE s.state IN ('planned', 'queued') AND NOT s.held AND s.due_at <= %s AND s.lease_until IS NULL
                  AND (s.campaign_id IS NULL OR EXISTS (
                        SELECT 1 FROM notifications_campaign c WHERE c.id = s.campaign_id AND c.status = 'scheduled'))
                ORDER BY s.due_at
                LIMIT %s
                FOR UPDATE OF s SKIP LOCKED
            )
            UPDATE notifications_send s SET
                state = 'queued',
                state_changed_at = CASE WHEN s.state = 'queued' THEN s.state_changed_at ELSE clock_timestamp() END,
                attempts = s.attempts + 1,
                lease_until = clock_timestamp() + %s
            FROM due WHERE s.id = due.id
            RETURNING s.id
            """,
            # The instant is a parameter, not clock_timestamp(): a volatile bound cannot stop the
            # index scan, which would then read every future send to find none due.
            [timezone.now(), batch_size, lease],
        )
        return sorted(row[0] for row in cursor.fetchall())


_LOAD_SQL = """
    SELECT s.id, s.user_id, s.channel, s.purpose, s.critical, s.kind, s.subject_id, s.language,
           s.expires_at, s.attempts, s.campaign_id, s.notification_id, u.phone, u.timezone, s.lease_until
    FROM notifications_send s JOIN accounts_user u ON u.id = s.user_id
    WHERE s.id = ANY(%s) ORDER BY s.due_at, s.id
"""


def load(ids: list[int]) -> list[Work]:
    """Read the claimed sends with their recipients and devices, and render each one's message."""
    with connection.cursor() as cursor:
        cursor.execute(_LOAD_SQL, [ids])
        works = [Work(*row) for row in cursor.fetchall()]
    campaigns = _by_id(
        "SELECT id, templates, link_url FROM notifications_campaign WHERE id = ANY(%s)",
        {w.campaign_id for w in works if w.campaign_id},
    )
    notifications = _by_id(
        "SELECT id, title, body, data FROM notifications_notification WHERE id = ANY(%s)",
        {w.notification_id for w in works if w.notification_id},
    )
    horoscopes = _by_id(
        "SELECT id, sign, approval_status, text_en, text_ar FROM marketplace_horoscope WHERE id = ANY(%s)",
        {w.subject_id for w in works if w.kind == "zodiac.daily" and w.subject_id},
    )
    # An Arabic text machine-translated and not approved yet is not sent: the English one goes instead.
    withheld = publishing.withheld(publishing.HOROSCOPE, "text", list(horoscopes))
    horoscopes = {pk: (*row[:3], "" if (pk, "ar") in withheld else row[3]) for pk, row in horoscopes.items()}
    devices = _devices({w.user_id for w in works if w.channel == Channel.PUSH})
    texts = [w for w in works if w.channel != Channel.PUSH and w.phone]
    for work in texts:
        work.address_hash = address_hash(work.phone)
    # Only a transactional text's footer depends on an earlier contact; a marketing text always has one.
    contacted = _contacted([w for w in texts if w.purpose not in OPT_IN_PURPOSES])
    for work in works:
        work.first_contact = (work.channel, work.address_hash) not in contacted
        work.message = render(work, campaigns, notifications, horoscopes)
        work.devices = devices.get(work.user_id, [])
        if work.channel == Channel.SMS and work.message and (measured := sms_measure(work.message)):
            work.encoding, work.segments = measured.encoding, measured.segments
    return works


def _contacted(works: list[Work]) -> set[tuple[str, str]]:
    """The (channel, address hash) pairs among `works` that an earlier text may have reached.

    First contact is per number and channel: no send to that number's hash on that channel was
    sent, or went out with an unknown outcome. Texts sent before hashes were stored do not count.
    """
    if not works:
        return set()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT channel, address_hash FROM notifications_send "
            "WHERE address_hash = ANY(%s) AND address_hash <> '' AND (sent_at IS NOT NULL OR state = 'unknown')",
            [list({w.address_hash for w in works})],
        )
        return set(cursor.fetchall())


def _devices(user_ids: set[int]) -> dict[int, list[DeviceToken]]:
    """The active devices of these users, newest registration first, at most MAX_DEVICES each."""
    found: dict[int, list[DeviceToken]] = {}
    if not user_ids:
        return found
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, user_id, platform, token, registered_at FROM notifications_devicetoken "
            "WHERE user_id = ANY(%s) AND active ORDER BY user_id, registered_at DESC, id DESC",
            [list(user_ids)],
        )
        for device_id, user_id, platform, token, registered_at in cursor.fetchall():
            mine = found.setdefault(user_id, [])
            if len(mine) < MAX_DEVICES:
                mine.append(
                    DeviceToken(
                        id=device_id, user_id=user_id, platform=platform, token=token, registered_at=registered_at
                    )
                )
    return found


def _by_id(sql: str, ids: set) -> dict:
    if not ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(sql, [list(ids)])
        return {row[0]: row[1:] for row in cursor.fetchall()}
