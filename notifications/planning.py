"""Targeting and scheduling: audiences, campaigns and the daily zodiac push, planned set-based.

Planning never loops over users in Python. The due time depends only on the recipient's timezone,
so it is computed once per zone (zoneinfo, DST included) and joined to the users in one
INSERT ... SELECT. Planning is idempotent: a campaign's schedule leaves out the users who have a
send of it, under the campaign's row lock (a concurrent run waits, then inserts nothing); the
zodiac plan relies on the unique dedupe key (ON CONFLICT DO NOTHING).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from notifications import selectors
from notifications.dispatch.messages import sms_measure
from notifications.models import Audience, Campaign, Channel, Purpose, Send
from notifications.quiet import in_quiet_hours, parse_time, quiet_begins_after
from notifications.targeting import LATEST_CONSENT, audience_params, audience_where, reachable_sql
from samia import audit
from samia.accounts.models import Language
from samia.companion import Companion, finish_all
from samia.exceptions import Conflict
from samia.marketplace.cohorts import local_time_instant
from samia.rls.registry import Identity

# Columns every planned send gets the same way, whatever planned it.
_SEND_COLUMNS = (
    "campaign_id, notification_id, user_id, channel, purpose, critical, kind, subject_id, dedupe_key, "
    "language, due_at, expires_at, state, state_changed_at, attempts, provider, sandbox, message_id, "
    "last_error, escalated, held, created_at"
)

# The schedule statement reads every user of the audience once (hash and merge joins), for this
# transaction only. Under RLS the planner estimates each table's visible rows as a small fraction
# (the policies' tests of the caller's role are parameters), so it expects a handful of
# recipients and would probe users, devices and suppressions once per recipient: 3,000,000 index
# probes for 1,000,000 users. work_mem keeps the sets sorted or hashed in memory (the users' sort
# takes 95 MB for 1,000,000 users; with the default 4 MB the sets spilled to disk).
_SET_BASED = "SET LOCAL enable_nestloop = off; SET LOCAL work_mem = '128MB'"
_SET_BASED_END = "SET LOCAL enable_nestloop TO DEFAULT; SET LOCAL work_mem TO DEFAULT"

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


def campaign_schedule(*, identity: Identity | str, campaign_id: int) -> tuple[Campaign, int]:
    """Activate a campaign and plan one send per recipient; returns (campaign, sends created).

    A large audience is planned in ranges of user ids on several connections at once
    (NOTIFICATIONS_SCHEDULE_CONNECTIONS, from NOTIFICATIONS_SCHEDULE_SPLIT_USERS users): each range
    is one INSERT ... SELECT on a core of its own. The other connections' transactions commit only
    when the caller's range was planned (samia.companion), and the dispatcher claims no send of a
    campaign before it is scheduled, so an interrupted schedule sends nothing; scheduling a draft
    again first removes what an interrupted one may have left, then plans it afresh.
    """
    campaign = selectors.campaign_get(identity=identity, campaign_id=campaign_id, operation="update", lock=True)
    if campaign.status == Campaign.Status.COMPLETED:
        raise Conflict("This campaign is completed.", status=campaign.status)
    if campaign.status == Campaign.Status.PAUSED:
        raise Conflict("This campaign is paused: resume it instead.", status=campaign.status)
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
    created = _plan_ranges(identity, campaign, params, afresh=afresh)
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


def _user_range(column: str, bounds: tuple[int | None, int | None]) -> str:
    """The condition keeping `column` in [first_user, last_user); either end may be open."""
    first, last = bounds
    return ("" if first is None else f"AND {column} >= %(first_user)s ") + (
        "" if last is None else f"AND {column} < %(last_user)s"
    )


def _schedule_sql(campaign: Campaign, bounds: tuple[int | None, int | None]) -> str:
    """The INSERT ... SELECT planning the campaign's sends to the users in `bounds`."""
    language = "CASE WHEN u.language = ANY(%(template_languages)s) THEN u.language ELSE 'en' END"
    user_range = _user_range("u.id", bounds)
    # The campaign's row is locked until commit, so schedules of one campaign run one after the
    # other and each statement sees what the previous planned: the anti-join leaves out who has a
    # send (no ON CONFLICT: its speculative insertion cost a quarter of the insert's CPU), and the
    # unique dedupe key still refuses a duplicate. Sends go in user order: each index is then
    # written front to back instead of at random (the table outgrows shared buffers).
    return f"""
        INSERT INTO notifications_send ({_SEND_COLUMNS}, encoding, segments)
        SELECT %(campaign)s, NULL, u.id, %(channel)s, %(purpose)s, false, %(kind)s, NULL,
               'campaign:' || %(campaign)s || ':' || u.id, {language},
               z.due_at, z.expires_at, 'planned', now(), 0, '', false, '', '', false, false, now(),
               coalesce(%(measures)s::jsonb -> ({language}) ->> 'encoding', ''),
               (%(measures)s::jsonb -> ({language}) ->> 'segments')::smallint
        FROM accounts_user u
        JOIN unnest(%(zones)s::text[], %(dues)s::timestamptz[], %(expiries)s::timestamptz[])
             AS z(zone, due_at, expires_at) ON z.zone = u.timezone
        LEFT JOIN ({LATEST_CONSENT}) lc ON lc.user_id = u.id
        WHERE true {audience_where(campaign.audience)} {reachable_sql(campaign.channel, campaign.purpose)}
          {user_range}
          AND NOT EXISTS (SELECT 1 FROM notifications_send s WHERE s.campaign_id = %(campaign)s AND s.user_id = u.id)
        ORDER BY u.id
    """


# The foreign keys a planned send checks (its user, its campaign). Django declares them DEFERRABLE
# INITIALLY DEFERRED; a split schedule checks them at the end of each range's statement instead of at
# each commit, so every connection checks its own rows at the same time as the others.
_SEND_KEYS_SQL = """
    SELECT string_agg(quote_ident(conname), ', ' ORDER BY conname) FROM pg_constraint
    WHERE conrelid = 'notifications_send'::regclass AND contype = 'f' AND condeferrable
      AND confrelid IN ('accounts_user'::regclass, 'notifications_campaign'::regclass)
"""


def _plan_range(
    cursor, campaign: Campaign, params: dict, bounds: tuple[int | None, int | None], *, afresh: bool, check_now: bool
) -> int:
    """Plan the campaign's sends to the users in `bounds` on `cursor`'s connection; return how many."""
    values = {**params, "first_user": bounds[0], "last_user": bounds[1]}
    if check_now:
        # Split: the caller waits for the other connections in Python, where Postgres cannot see the wait,
        # so a deadlock through a third transaction (one locking users FOR UPDATE in two ranges) would
        # go undetected. A bounded lock wait turns it into an error, and every range rolls back.
        cursor.execute(
            "SELECT set_config('lock_timeout', %s, true)", [f"{settings.NOTIFICATIONS_SCHEDULE_LOCK_TIMEOUT_SECONDS}s"]
        )
    if afresh:
        where = _user_range("user_id", bounds)
        cursor.execute(f"DELETE FROM notifications_send WHERE campaign_id = %(campaign)s {where}", values)
    keys = None
    if check_now:
        cursor.execute(_SEND_KEYS_SQL)
        (keys,) = cursor.fetchone()
    cursor.execute(_SET_BASED)
    if keys:
        cursor.execute(f"SET CONSTRAINTS {keys} IMMEDIATE")
    cursor.execute(_schedule_sql(campaign, bounds), values)
    created = cursor.rowcount
    if keys:
        cursor.execute(f"SET CONSTRAINTS {keys} DEFERRED")
    cursor.execute(_SET_BASED_END)
    if check_now:
        cursor.execute("SET LOCAL lock_timeout TO DEFAULT")
    return created


def _user_bounds(connections_wanted: int) -> list[tuple[int | None, int | None]]:
    """Split the users into ranges of ids of about equal size, one per connection: [(first, last)), open-ended
    at both ends. One range when splitting does not pay (NOTIFICATIONS_SCHEDULE_SPLIT_USERS)."""
    if connections_wanted < 2:
        return [(None, None)]
    with connection.cursor() as cursor:
        if settings.NOTIFICATIONS_SCHEDULE_SPLIT_USERS > 0:
            # The planner's estimate of the table's size (-1 before it was first analyzed): free, and
            # precise enough to choose.
            cursor.execute("SELECT reltuples FROM pg_class WHERE oid = 'accounts_user'::regclass")
            (estimate,) = cursor.fetchone()
            if estimate < settings.NOTIFICATIONS_SCHEDULE_SPLIT_USERS:
                return [(None, None)]
        cursor.execute("SELECT min(id), max(id) FROM accounts_user")
        low, high = cursor.fetchone()
    if low is None or high - low < connections_wanted:
        return [(None, None)]
    cuts = [low + (high - low + 1) * i // connections_wanted for i in range(1, connections_wanted)]
    edges = [None, *cuts, None]
    return list(itertools.pairwise(edges))


def _plan_ranges(identity: Identity | str, campaign: Campaign, params: dict, *, afresh: bool) -> int:
    """Plan the campaign's sends, in ranges of users on several connections when the audience is large."""
    ranges = _user_bounds(settings.NOTIFICATIONS_SCHEDULE_CONNECTIONS)
    if len(ranges) == 1:
        with connection.cursor() as cursor:
            return _plan_range(cursor, campaign, params, ranges[0], afresh=afresh, check_now=False)

    def share(bounds):
        def work(cursor) -> int | None:
            # The campaign created in the caller's transaction, not committed yet: the caller plans this range.
            cursor.execute("SELECT 1 FROM notifications_campaign WHERE id = %s", [campaign.pk])
            if cursor.fetchone() is None:
                return None
            return _plan_range(cursor, campaign, params, bounds, afresh=afresh, check_now=True)

        return work

    bound_as = identity if isinstance(identity, Identity) else None
    companions = [
        Companion(share(bounds), identity=bound_as, name="notifications-schedule-companion") for bounds in ranges[1:]
    ]
    try:
        with connection.cursor() as cursor:
            created = share(ranges[0])(cursor)
    except BaseException:
        finish_all(companions, commit=False)
        raise
    results = finish_all(companions, commit=True)
    for bounds, result in zip(ranges[1:], results, strict=True):
        if result is None:
            with connection.cursor() as cursor:
                result = _plan_range(cursor, campaign, params, bounds, afresh=afresh, check_now=False)
        created += result
    return created


def campaign_pause(*, identity: Identity, campaign_id: int, pause: bool) -> Campaign:
    """Pause a scheduled campaign (or, with `pause=False`, resume a paused one); hold its waiting sends."""
    campaign = selectors.campaign_get(identity=identity, campaign_id=campaign_id, operation="update", lock=True)
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
        INSERT INTO notifications_send ({_SEND_COLUMNS})
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
