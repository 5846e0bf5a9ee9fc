"""Who a campaign or the zodiac push can reach: SQL fragments shared by planning and counting.

Reachable means: an active, unblocked account that agreed to the purpose on the channel (the
latest consent row), has an address there (an active device or a phone) and is not suppressed.
"""

from __future__ import annotations

from django.utils import timezone

from notifications.models import DEFAULT_AUDIENCE_ROLES, Audience, Channel, Purpose

# Latest consent per user for one (channel, purpose).
LATEST_CONSENT = """
    SELECT DISTINCT ON (c.user_id) c.user_id, c.status
    FROM notifications_consent c
    WHERE c.channel = %(channel)s AND c.purpose = %(purpose)s
    ORDER BY c.user_id, c.recorded_at DESC, c.id DESC
"""

SEGMENTS = {
    Audience.Segment.EVERYONE: "",
    Audience.Segment.LISTENED_7D: (
        "AND u.id IN (SELECT e.actor_id FROM events_raw e WHERE e.name = 'horoscope.listened' "
        "AND e.occurred_at >= %(now)s - interval '7 days' AND e.actor_id IS NOT NULL)"
    ),
    Audience.Segment.ACTIVE_30D: (
        "AND u.id IN (SELECT e.actor_id FROM events_raw e WHERE e.name = 'app.session' "
        "AND e.occurred_at >= %(now)s - interval '30 days' AND e.actor_id IS NOT NULL)"
    ),
    Audience.Segment.DORMANT_30D: (
        "AND u.id NOT IN (SELECT e.actor_id FROM events_raw e WHERE e.name = 'app.session' "
        "AND e.occurred_at >= %(now)s - interval '30 days' AND e.actor_id IS NOT NULL)"
    ),
    Audience.Segment.ORDERED_90D: (
        "AND u.id IN (SELECT o.client_id FROM marketplace_order o WHERE o.created_at >= %(now)s - interval '90 days')"
    ),
}


def reachable_sql(channel: str, purpose: str) -> str:
    """The recipient can be reached on `channel`, agreed to `purpose` and is not suppressed."""
    if purpose == Purpose.TRANSACTIONAL:
        consent = "AND coalesce(lc.status, 'granted') = 'granted'"
    else:
        consent = "AND lc.status = 'granted'"
    if channel == Channel.PUSH:
        address = "AND EXISTS (SELECT 1 FROM notifications_devicetoken d WHERE d.user_id = u.id AND d.active)"
    else:
        address = "AND u.phone <> ''"
    return f"""
        AND u.is_active AND u.blocked_at IS NULL
        {consent}
        {address}
        AND NOT EXISTS (SELECT 1 FROM notifications_suppression x
                        WHERE x.channel = %(channel)s AND x.lifted_at IS NULL AND x.user_id = u.id)
    """


def audience_where(audience: Audience) -> str:
    clauses = ["AND u.role = ANY(%(roles)s)"]
    if audience.countries:
        clauses.append("AND u.country = ANY(%(countries)s)")
    if audience.languages:
        clauses.append("AND u.language = ANY(%(languages)s)")
    clauses.append(SEGMENTS[audience.segment])
    return "\n".join(clauses)


def audience_params(audience: Audience, channel: str, purpose: str) -> dict:
    return {
        "roles": list(audience.roles or DEFAULT_AUDIENCE_ROLES),
        "countries": list(audience.countries),
        "languages": list(audience.languages),
        "channel": channel,
        "purpose": purpose,
        "now": timezone.now(),
    }
