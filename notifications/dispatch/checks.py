"""Set-based statements of the dispatcher: check a group of claimed sends, settle many at once.

`check` re-reads, for every send of a group right before it goes, the latest consent, active
suppressions (of the user or of the number's hash), the recipient's account and the campaign's
status, and marks the sends in flight, in one statement. `settle` records final or next states
and releases the claims in one statement, appending `notification.sent` for the sent ones. Both
touch only sends still held by the claim they were loaded under (same `lease_until`): a send
reaped after a lapsed lease, perhaps claimed again by another worker, is left alone.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import connection

from notifications.dispatch.claims import Work

_CHECK_SQL = """
    WITH v AS (
        SELECT * FROM unnest(%(ids)s::bigint[], %(leases)s::timestamptz[], %(hashes)s::text[],
                             %(encodings)s::text[], %(segments)s::integer[])
            AS v(id, lease, hash, encoding, segments)
    )
    UPDATE notifications_send s SET in_flight_since = clock_timestamp(), address_hash = v.hash,
           encoding = v.encoding, segments = v.segments
    FROM v
    WHERE s.id = v.id AND s.state = 'queued' AND s.lease_until = v.lease
    RETURNING
        s.id,
        coalesce((SELECT c.status = 'granted' FROM notifications_consent c
                  WHERE c.user_id = s.user_id AND c.channel = s.channel AND c.purpose = s.purpose
                  ORDER BY c.recorded_at DESC, c.id DESC LIMIT 1), s.purpose = 'transactional'),
        EXISTS (SELECT 1 FROM notifications_suppression x
                WHERE x.channel = s.channel AND x.lifted_at IS NULL
                  AND (x.user_id = s.user_id OR x.address_hash = v.hash)),
        (SELECT u.is_active AND u.blocked_at IS NULL FROM accounts_user u WHERE u.id = s.user_id),
        (s.campaign_id IS NULL OR EXISTS (SELECT 1 FROM notifications_campaign c
                                          WHERE c.id = s.campaign_id AND c.status = 'scheduled'))
"""

_SETTLE_SQL = """
    WITH v AS (
        SELECT * FROM unnest(%(ids)s::bigint[], %(leases)s::timestamptz[], %(states)s::text[],
                             %(errors)s::text[], %(back)s::boolean[], %(due)s::timestamptz[],
                             %(providers)s::text[], %(sandbox)s::boolean[], %(message_ids)s::text[],
                             %(sent_at)s::timestamptz[])
            AS v(id, lease, state, last_error, back, due_at, provider, sandbox, message_id, sent_at)
    ), settled AS (
        UPDATE notifications_send s SET
            state = v.state, lease_until = NULL, in_flight_since = NULL, last_error = v.last_error,
            due_at = coalesce(v.due_at, s.due_at), provider = coalesce(v.provider, s.provider),
            sandbox = coalesce(v.sandbox, s.sandbox), message_id = coalesce(v.message_id, s.message_id),
            sent_at = coalesce(v.sent_at, s.sent_at),
            state_changed_at = CASE WHEN v.state = 'queued' THEN s.state_changed_at ELSE clock_timestamp() END,
            attempts = s.attempts - CASE WHEN v.back THEN 1 ELSE 0 END
        FROM v
        WHERE s.id = v.id AND s.state = 'queued' AND s.lease_until = v.lease
        RETURNING s.id, s.campaign_id, s.channel, s.state
    ), events AS (
        INSERT INTO events_raw (occurred_at, name, version, actor_id, actor_key, subject_type, subject_id, properties)
        SELECT clock_timestamp(), 'notification.sent', 1, NULL, '', 'notifications.send', id,
               jsonb_strip_nulls(jsonb_build_object('channel', channel, 'campaign_id', campaign_id))
        FROM settled WHERE state = 'sent'
    )
    SELECT id FROM settled
"""


@dataclass(frozen=True)
class Checked:
    consent: bool
    suppressed: bool
    account_ok: bool
    campaign_live: bool


@dataclass
class Settlement:
    """A final or next state for one claimed send; None leaves a column as it is."""

    work: Work
    state: str
    error: str = ""
    attempts_back: bool = False  # an attempt that never reached a provider is not counted
    due_at: dt.datetime | None = None
    provider: str | None = None
    sandbox: bool | None = None
    message_id: str | None = None
    sent_at: dt.datetime | None = None


def check(works: list[Work]) -> dict[int, Checked]:
    """Mark these sends in flight and read what may stop each; a send no longer ours is absent."""
    if not works:
        return {}
    params = {
        "ids": [w.id for w in works],
        "leases": [w.lease_until for w in works],
        "hashes": [w.address_hash for w in works],
        "encodings": [w.encoding for w in works],
        "segments": [w.segments for w in works],
    }
    with connection.cursor() as cursor:
        cursor.execute(_CHECK_SQL, params)
        return {row[0]: Checked(*row[1:]) for row in cursor.fetchall()}


def settle(settlements: list[Settlement]) -> set[int]:
    """Record these states and release the claims in one statement; return the ids recorded."""
    if not settlements:
        return set()
    params = {
        "ids": [s.work.id for s in settlements],
        "leases": [s.work.lease_until for s in settlements],
        "states": [s.state for s in settlements],
        "errors": [s.error[:40] for s in settlements],
        "back": [s.attempts_back for s in settlements],
        "due": [s.due_at for s in settlements],
        "providers": [s.provider[:12] if s.provider is not None else None for s in settlements],
        "sandbox": [s.sandbox for s in settlements],
        "message_ids": [s.message_id[:200] if s.message_id is not None else None for s in settlements],
        "sent_at": [s.sent_at for s in settlements],
    }
    with connection.cursor() as cursor:
        cursor.execute(_SETTLE_SQL, params)
        return {row[0] for row in cursor.fetchall()}


def whatsapp_windows(hashes: set[str], now: dt.datetime) -> set[str]:
    """The address hashes among these with a WhatsApp conversation window open now (24 hours)."""
    if not hashes:
        return set()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT address_hash FROM notifications_conversationwindow WHERE channel = 'whatsapp' "
            "AND address_hash = ANY(%s) AND last_inbound_at > %s",
            [list(hashes), now - dt.timedelta(hours=24)],
        )
        return {row[0] for row in cursor.fetchall()}
