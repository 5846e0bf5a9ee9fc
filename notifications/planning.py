"""Targeting and scheduling: audiences, campaigns and the daily zodiac push, planned set-based.

Planning never loops over users in Python. The due time depends only on the recipient's timezone,
so it is computed once per zone (zoneinfo, DST included) and joined to the users in one
INSERT ... SELECT. Planning is idempotent: a campaign's schedule leaves out the users who have a
send of it, under the campaign's row lock (a concurrent run waits, then inserts nothing); the
zodiac plan relies on the unique dedupe key (ON CONFLICT DO NOTHING).
"""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from notifications import ranges, selectors
from notifications.dispatch.messages import sms_measure
from notifications.models import Audience, Campaign, Channel, Purpose, Send
from notifications.quiet import in_quiet_hours, parse_time, quiet_begins_after
from notifications.targeting import LATEST_CONSENT, audience_params, reachable_sql
from samia import audit
from samia.accounts.models import Language
from samia.exceptions import Conflict
from samia.marketplace.cohorts import local_time_instant
from samia.rls.registry import Identity

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
    """Create a draft campaign and its audience from validated API input."""
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


def _measures(campaign: Campaign) -> str:
    """Return {language: {encoding, segments}} of an SMS campaign's text (footer and a link of the
    next sends' length included): the cost known before it goes out. Other channels: {}."""
    if campaign.channel != Channel.SMS:
        return "{}"
    sample = selectors.send_id_sample()
    measures = {}
    for language in campaign.templates:
        message = selectors.campaign_message(campaign=campaign, language=language, send_id=sample)
        measured = sms_measure(message)
        measures[language] = {"encoding": measured.encoding, "segments": measured.segments}
    return json.dumps(measures)


def _locked(identity: Identity | str, campaign_id: int, *, wait: bool) -> Campaign:
    """The campaign `identity` may update, locked FOR NO KEY UPDATE until the transaction ends.

    A web request does not wait for the lock (`wait=False`): a schedule holds it for as long as it
    plans (tens of seconds for a large audience, longer than gunicorn lets a request run), so the
    request is refused at once with 409 instead. A job waits its turn.
    """
    try:
        return selectors.campaign_get(
            identity=identity, campaign_id=campaign_id, operation="update", lock=True, nowait=not wait
        )
    except selectors.CampaignBusy:
        status = selectors.campaign_get(identity=identity, campaign_id=campaign_id).status
        raise Conflict(
            "This campaign is being scheduled, paused or resumed right now: try again in a minute.", status=status
        ) from None


def schedulable(identity: Identity | str, campaign_id: int, *, wait: bool = True) -> Campaign:
    """The campaign `identity` may schedule, locked (see _locked)."""
    campaign = _locked(identity, campaign_id, wait=wait)
    if campaign.status == Campaign.Status.COMPLETED:
        raise Conflict("This campaign is completed.", status=campaign.status)
    if campaign.status == Campaign.Status.PAUSED:
        raise Conflict("This campaign is paused: resume it instead.", status=campaign.status)
    return campaign


def campaign_schedule(*, identity: Identity | str, campaign_id: int, wait: bool = True) -> tuple[Campaign, int]:
    """Activate a campaign and plan one send per recipient; returns (campaign, sends created).

    A large audience is planned in ranges of user ids on several connections at once
    (NOTIFICATIONS_SCHEDULE_CONNECTIONS, from NOTIFICATIONS_SCHEDULE_SPLIT_USERS users): each range
    is one INSERT ... SELECT on a core of its own. The other connections' transactions commit only
    when the caller's range was planned (samia.companion), and the dispatcher claims no send of a
    campaign before it is scheduled, so an interrupted schedule sends nothing; scheduling a draft
    again first removes what an interrupted one may have left, then plans it afresh.
    """
    campaign = schedulable(identity, campaign_id, wait=wait)
    zones = selectors.zone_list()
    names, dues, expiries = _zone_times(campaign, zones)
    params = audience_params(campaign.audience, campaign.channel, campaign.purpose)
    params.update(
        campaign=campaign.pk,
        kind=f"campaign.{campaign.purpose}",
        zones=names,
        dues=dues,
        expiries=expiries,
        template_languages=list(campaign.templates),
        measures=_measures(campaign),
    )
    # A draft has no sends but what an interrupted split schedule committed (see above): each range removes
    # those of its users first (nothing refers to them: they were never claimed; Postgres refuses the
    # DELETE unless the campaign is a draft), then plans afresh.
    afresh = campaign.status == Campaign.Status.DRAFT
    planned = 0 if afresh else Send.objects.filter(campaign=campaign).count()
    created = ranges.plan_ranges(identity, campaign, params, afresh=afresh)
    was = campaign.status
    campaign.status = Campaign.Status.SCHEDULED
    campaign.planned_count = planned + created
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
    """Pause a scheduled campaign (or, with `pause=False`, resume a paused one); hold its waiting sends.
    A request: refused at once (409) while a schedule of it runs."""
    campaign = _locked(identity, campaign_id, wait=False)
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
    for zone in selectors.zone_list():
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
    approved = selectors.horoscope_approved_list(days=set(days))
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
        INSERT INTO notifications_send ({ranges.SEND_COLUMNS})
        SELECT NULL, NULL, u.id, %(channel)s, %(purpose)s, false, 'zodiac.daily', h.id,
               'zodiac:' || z.day || ':' || u.id, u.language,
               z.due_at, z.expires_at, 'planned', now(), 0, '', false, '', '', false, false, now()
        FROM accounts_user u
        JOIN unnest(%(zones)s::text[], %(days)s::date[], %(dues)s::timestamptz[], %(expiries)s::timestamptz[])
             AS z(zone, day, due_at, expires_at) ON z.zone = u.timezone
        JOIN unnest(%(horoscopes)s::bigint[], %(signs)s::text[], %(dates)s::date[]) AS h(id, sign, day)
             ON h.sign = u.zodiac_sign AND h.day = z.day
        LEFT JOIN ({LATEST_CONSENT}) lc ON lc.user_id = u.id
        WHERE u.role = 'client' {reachable_sql(Channel.PUSH, Purpose.ZODIAC)}
        ON CONFLICT (dedupe_key) DO NOTHING
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount
