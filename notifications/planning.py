"""Targeting and scheduling: audiences, campaigns and the daily zodiac push, planned set-based.

Planning never loops over users in Python. The due time depends only on the recipient's timezone,
so it is computed once per zone (zoneinfo, DST included) and joined to the users in one
INSERT ... SELECT. The unique dedupe key makes planning idempotent: a second or concurrent run
inserts nothing that exists.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.utils import timezone
from rest_framework.exceptions import NotFound, ValidationError

from notifications.models import DEFAULT_AUDIENCE_ROLES, Audience, Campaign, Channel, Purpose, Send
from notifications.quiet import in_quiet_hours, parse_time, quiet_begins_after
from samia import audit
from samia.accounts.models import Language, User
from samia.exceptions import Conflict
from samia.marketplace.cohorts import local_time_instant
from samia.marketplace.models import Horoscope
from samia.rls.registry import Identity

# Columns every planned send gets the same way, whatever planned it.
_SEND_COLUMNS = (
    "campaign_id, notification_id, user_id, channel, purpose, critical, kind, subject_id, dedupe_key, "
    "language, due_at, expires_at, state, state_changed_at, attempts, provider, sandbox, message_id, "
    "last_error, escalated, held, created_at"
)

# Latest consent per user for one (channel, purpose).
_LATEST_CONSENT = """
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


def _audience_params(audience: Audience, channel: str, purpose: str) -> dict:
    return {
        "roles": list(audience.roles or DEFAULT_AUDIENCE_ROLES),
        "countries": list(audience.countries),
        "languages": list(audience.languages),
        "channel": channel,
        "purpose": purpose,
        "now": timezone.now(),
    }


def audience_count(audience: Audience, *, channel: str, purpose: str) -> int:
    sql = f"""
        SELECT count(*) FROM accounts_user u
        LEFT JOIN ({_LATEST_CONSENT}) lc ON lc.user_id = u.id
        WHERE true {audience_where(audience)} {reachable_sql(channel, purpose)}
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, _audience_params(audience, channel, purpose))
        return cursor.fetchone()[0]


# ---------------------------------------------------------------------------------------------
# Campaigns


def validate_templates(channel: str, templates) -> dict:
    if not isinstance(templates, dict) or Language.ENGLISH not in templates:
        raise ValidationError({"templates": ["An object keyed by language (ar, en) with at least en."]})
    clean = {}
    for language, template in templates.items():
        if language not in Language.values or not isinstance(template, dict):
            raise ValidationError({"templates": [f"Unknown language {language!r} or not an object."]})
        if channel == Channel.WHATSAPP and template.get("content_sid"):
            variables = template.get("variables", {})
            if not isinstance(variables, dict) or not all(isinstance(v, str) for v in variables.values()):
                raise ValidationError({"templates": ["WhatsApp template variables are strings."]})
            clean[language] = {"content_sid": str(template["content_sid"])[:64], "variables": variables}
            continue
        title, body = template.get("title", ""), template.get("body", "")
        if not isinstance(body, str) or not body.strip() or len(body) > 1000:
            raise ValidationError({"templates": [f"{language}: a body of 1 to 1000 characters."]})
        if not isinstance(title, str) or len(title) > 120 or (channel == Channel.PUSH and not title.strip()):
            raise ValidationError({"templates": [f"{language}: a title of at most 120 characters (push needs one)."]})
        clean[language] = {"title": title, "body": body}
    if channel == Channel.WHATSAPP and not all("content_sid" in t for t in clean.values()):
        # Outside the 24-hour window only an approved template may go out; campaigns are outbound.
        raise ValidationError({"templates": ["WhatsApp campaigns send approved templates (content_sid)."]})
    return clean


def campaign_check(*, channel: str, purpose: str, send_on: dt.date, local_time: dt.time, window_hours: int, templates):
    """Validate what a campaign will send and when (API and back office alike); return clean templates."""
    if purpose == Purpose.TRANSACTIONAL:
        raise ValidationError({"purpose": ["Campaigns are marketing or zodiac messages."]})
    if not 1 <= window_hours <= 24:
        raise ValidationError({"window_hours": ["From 1 to 24 hours."]})
    quiet_probe = dt.datetime.combine(send_on, local_time, tzinfo=dt.UTC)
    if in_quiet_hours(quiet_probe, "UTC", channel, purpose):
        raise ValidationError({"local_time": ["This local time is inside quiet hours for this channel."]})
    return validate_templates(channel, templates)


def campaign_create(*, identity: Identity, data: dict) -> Campaign:
    channel, purpose = data["channel"], data.get("purpose", Purpose.MARKETING)
    local_time = data["local_time"]
    templates = campaign_check(
        channel=channel,
        purpose=purpose,
        send_on=data["send_on"],
        local_time=local_time,
        window_hours=data.get("window_hours", 6),
        templates=data["templates"],
    )
    audience_data = data["audience"]
    audience = Audience(
        name=audience_data.get("name") or data["name"],
        roles=audience_data.get("roles", []),
        countries=audience_data.get("countries", []),
        languages=audience_data.get("languages", []),
        segment=audience_data.get("segment", Audience.Segment.EVERYONE),
        created_by_id=identity.user_id,
    )
    audience.save(force_insert=True)
    campaign = Campaign(
        name=data["name"],
        purpose=purpose,
        channel=channel,
        audience=audience,
        templates=templates,
        link_url=data.get("link_url", ""),
        send_on=data["send_on"],
        local_time=local_time,
        window_hours=data.get("window_hours", 6),
        created_by_id=identity.user_id,
    )
    campaign.save(force_insert=True)
    audit.record(
        action="notifications.campaign.create",
        actor=identity,
        target=campaign,
        details={"channel": channel, "purpose": purpose, "segment": audience.segment},
    )
    return campaign


def _known_zone(zone: str) -> bool:
    try:
        ZoneInfo(zone)
    except (ValueError, KeyError, OSError):  # ZoneInfoNotFoundError is a KeyError
        return False
    return True


def _zone_times(campaign: Campaign, zones: list[str]) -> tuple[list, list, list]:
    names, dues, expiries = [], [], []
    for zone in zones:
        if not _known_zone(zone):  # an unknown zone in old data: those users are skipped, not guessed
            continue
        due = local_time_instant(day=campaign.send_on, local_time=campaign.local_time, zone=zone)
        # The window closes after window_hours, or earlier when quiet hours begin there.
        expires = due + dt.timedelta(hours=campaign.window_hours)
        quiet = quiet_begins_after(due, zone, campaign.channel, campaign.purpose)
        names.append(zone)
        dues.append(due)
        expiries.append(min(expires, quiet) if quiet else expires)
    return names, dues, expiries


def campaign_schedule(*, identity: Identity | str, campaign_id: int) -> tuple[Campaign, int]:
    """Activate a campaign and plan one send per recipient; returns (campaign, sends created)."""
    campaign = Campaign.objects.select_for_update().select_related("audience").filter(pk=campaign_id).first()
    if campaign is None:
        raise NotFound("No such campaign.")
    if campaign.status == Campaign.Status.COMPLETED:
        raise Conflict("This campaign is completed.", status=campaign.status)
    if campaign.status == Campaign.Status.PAUSED:
        raise Conflict("This campaign is paused: resume it instead.", status=campaign.status)
    zones = list(User.objects.order_by().values_list("timezone", flat=True).distinct())
    names, dues, expiries = _zone_times(campaign, zones)
    params = _audience_params(campaign.audience, campaign.channel, campaign.purpose)
    params.update(
        campaign=campaign.pk,
        kind=f"campaign.{campaign.purpose}",
        zones=names,
        dues=dues,
        expiries=expiries,
        template_languages=list(campaign.templates),
    )
    sql = f"""
        INSERT INTO notifications_send ({_SEND_COLUMNS})
        SELECT %(campaign)s, NULL, u.id, %(channel)s, %(purpose)s, false, %(kind)s, NULL,
               'campaign:' || %(campaign)s || ':' || u.id,
               CASE WHEN u.language = ANY(%(template_languages)s) THEN u.language ELSE 'en' END,
               z.due_at, z.expires_at, 'planned', now(), 0, '', false, '', '', false, false, now()
        FROM accounts_user u
        JOIN unnest(%(zones)s::text[], %(dues)s::timestamptz[], %(expiries)s::timestamptz[])
             AS z(zone, due_at, expires_at) ON z.zone = u.timezone
        LEFT JOIN ({_LATEST_CONSENT}) lc ON lc.user_id = u.id
        WHERE true {audience_where(campaign.audience)} {reachable_sql(campaign.channel, campaign.purpose)}
        ON CONFLICT (dedupe_key) DO NOTHING
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        created = cursor.rowcount
    was = campaign.status
    campaign.status = Campaign.Status.SCHEDULED
    campaign.planned_count = Send.objects.filter(campaign=campaign).count()
    campaign.scheduled_at = campaign.scheduled_at or timezone.now()
    campaign.save(update_fields=["status", "planned_count", "scheduled_at"])
    audit.record(
        action="notifications.campaign.schedule",
        actor=identity,
        target=campaign,
        details={"created": created, "planned": campaign.planned_count, "from_status": was},
    )
    return campaign, created


def campaign_pause(*, identity: Identity, campaign_id: int, pause: bool) -> Campaign:
    campaign = Campaign.objects.select_for_update().filter(pk=campaign_id).first()
    if campaign is None:
        raise NotFound("No such campaign.")
    source, target = (Campaign.Status.SCHEDULED, Campaign.Status.PAUSED)
    if not pause:
        source, target = target, source
    if campaign.status != source:
        raise Conflict(f"Only a {source} campaign can be {'paused' if pause else 'resumed'}.", status=campaign.status)
    campaign.status = target
    campaign.save(update_fields=["status"])
    # Paused sends leave the dispatcher's due index, so a big paused campaign costs its claims nothing.
    Send.objects.filter(campaign=campaign, state__in=[Send.State.PLANNED, Send.State.QUEUED]).update(held=pause)
    audit.record(
        action=f"notifications.campaign.{'pause' if pause else 'resume'}",
        actor=identity,
        target=campaign,
    )
    return campaign


def campaign_preview(campaign: Campaign, language: str, *, count: bool = False) -> dict:
    """The message a recipient of `language` gets; with `count`, how many recipients it reaches now."""
    template = campaign.templates.get(language) or campaign.templates[Language.ENGLISH]
    preview = {"language": language if language in campaign.templates else Language.ENGLISH, **template}
    if count:
        preview["recipients"] = audience_count(campaign.audience, channel=campaign.channel, purpose=campaign.purpose)
    return preview


STATS = {
    "planned": "true",
    "pending": "state IN ('planned', 'queued')",
    "deferred": "state IN ('planned', 'queued') AND last_error = 'provider_unavailable'",
    "sent": "state IN ('sent', 'delivered', 'opened', 'clicked', 'bounced')",
    "delivered": "state IN ('delivered', 'opened', 'clicked')",
    "opened": "state IN ('opened', 'clicked')",
    "clicked": "state = 'clicked'",
    "bounced": "state = 'bounced'",
    "suppressed": "state = 'suppressed'",
    "opted_out": "state = 'opted_out'",
    "skipped_quiet_hours": "state = 'skipped_quiet_hours'",
    "expired": "state = 'expired'",
    "cancelled": "state = 'cancelled'",
    "failed": "state = 'failed'",
    "unknown": "state = 'unknown'",
    "sandbox": "sandbox",
}


def campaign_stats(campaign: Campaign) -> dict:
    counts = ", ".join(f"count(*) FILTER (WHERE {condition})" for condition in STATS.values())
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {counts} FROM notifications_send WHERE campaign_id = %s", [campaign.pk])
        stats = dict(zip(STATS, cursor.fetchone(), strict=True))
        # Recipients who opted out of this channel and purpose after the campaign reached them.
        cursor.execute(
            """
            SELECT count(DISTINCT s.user_id) FROM notifications_send s
            JOIN notifications_consent c ON c.user_id = s.user_id AND c.channel = s.channel
                 AND c.purpose = s.purpose AND c.status = 'revoked' AND c.recorded_at >= s.sent_at
            WHERE s.campaign_id = %s AND s.sent_at IS NOT NULL
            """,
            [campaign.pk],
        )
        stats["unsubscribed_after"] = cursor.fetchone()[0]
    stats["opted_out_total"] = stats["opted_out"] + stats["unsubscribed_after"]
    return stats


# ---------------------------------------------------------------------------------------------
# The daily zodiac push


def zodiac_plan(*, now: dt.datetime | None = None) -> int:
    """Plan today's zodiac push for every zone whose send time is near, where the horoscope is approved.

    Runs every 15 minutes (service role). For each timezone in use, "today" is that zone's local
    date; a zone is planned from one hour before its local send time until its window closes, so
    a horoscope approved late still goes out that day. Returns the number of sends created.
    """
    now = now or timezone.now()
    local_time = parse_time(settings.NOTIFICATIONS_ZODIAC_LOCAL_TIME)
    window = dt.timedelta(hours=settings.NOTIFICATIONS_ZODIAC_WINDOW_HOURS)
    zones, days, dues, expiries = [], [], [], []
    for zone in User.objects.order_by().values_list("timezone", flat=True).distinct():
        if not _known_zone(zone):
            continue
        day = now.astimezone(ZoneInfo(zone)).date()
        due = local_time_instant(day=day, local_time=local_time, zone=zone)
        quiet = quiet_begins_after(due, zone, Channel.PUSH, Purpose.ZODIAC)
        expires = min(due + window, quiet) if quiet else due + window
        if due - dt.timedelta(hours=1) <= now < expires:
            zones.append(zone)
            days.append(day)
            dues.append(due)
            expiries.append(expires)
    if not zones:
        return 0
    approved = list(
        Horoscope.objects.filter(
            date__in=set(days), scope=Horoscope.Scope.DAILY, approval_status=Horoscope.Approval.APPROVED
        ).values_list("id", "sign", "date")
    )
    if not approved:
        return 0
    params = {
        "channel": Channel.PUSH,
        "purpose": Purpose.ZODIAC,
        "zones": zones,
        "days": days,
        "dues": dues,
        "expiries": expiries,
        "horoscopes": [h[0] for h in approved],
        "signs": [h[1] for h in approved],
        "dates": [h[2] for h in approved],
    }
    sql = f"""
        INSERT INTO notifications_send ({_SEND_COLUMNS})
        SELECT NULL, NULL, u.id, %(channel)s, %(purpose)s, false, 'zodiac.daily', h.id,
               'zodiac:' || z.day || ':' || u.id, u.language,
               z.due_at, z.expires_at, 'planned', now(), 0, '', false, '', '', false, false, now()
        FROM accounts_user u
        JOIN unnest(%(zones)s::text[], %(days)s::date[], %(dues)s::timestamptz[], %(expiries)s::timestamptz[])
             AS z(zone, day, due_at, expires_at) ON z.zone = u.timezone
        JOIN unnest(%(horoscopes)s::bigint[], %(signs)s::text[], %(dates)s::date[]) AS h(id, sign, day)
             ON h.sign = u.zodiac_sign AND h.day = z.day
        LEFT JOIN ({_LATEST_CONSENT}) lc ON lc.user_id = u.id
        WHERE u.role = 'client' {reachable_sql(Channel.PUSH, Purpose.ZODIAC)}
        ON CONFLICT (dedupe_key) DO NOTHING
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount
