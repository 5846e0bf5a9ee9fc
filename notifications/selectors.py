"""Notification reads, scoped by the same declarations that Postgres enforces.

A person's reads go through `policies`; a job (a "system:..." actor) runs as the service role
and reads every row.
"""

from __future__ import annotations

import contextlib
import datetime as dt

from django.db import OperationalError, connection, transaction
from django.db.models import Max, QuerySet

from notifications import links, policies
from notifications.dispatch import messages
from notifications.models import (
    OPT_IN_PURPOSES,
    Audience,
    Campaign,
    Channel,
    Consent,
    DeviceToken,
    Notification,
    Purpose,
    Send,
    Suppression,
)
from notifications.targeting import LATEST_CONSENT, audience_params, audience_where, reachable_sql
from samia.accounts.models import Language, User
from samia.marketplace.models import Horoscope
from samia.rls.registry import Identity, TableDeclaration


def _get(declaration: TableDeclaration, queryset: QuerySet, actor: Identity | str, pk, operation: str, missing=""):
    if isinstance(actor, Identity):
        return declaration.get(queryset, actor, pk, operation=operation, missing=missing)
    try:
        return queryset.get(pk=pk)
    except queryset.model.DoesNotExist:
        raise queryset.model.DoesNotExist(missing or f"No such {queryset.model._meta.verbose_name}.") from None


def recipient_get(*, user_id: int) -> User:
    """Return the user `user_id` with their language, or raise User.DoesNotExist."""
    try:
        return User.objects.only("id", "language").get(pk=user_id)
    except User.DoesNotExist:
        raise User.DoesNotExist("No such user.") from None


def zone_list() -> list[str]:
    """Return the timezones users live in."""
    return list(User.objects.order_by().values_list("timezone", flat=True).distinct())


# ---------------------------------------------------------------------------------------------
# Consent


def consent_default(purpose: str) -> bool:
    """Without any record: transactional messages go out (contract), the others need an opt-in."""
    return purpose not in OPT_IN_PURPOSES


def consent_current(user_id: int, channel: str, purpose: str) -> bool:
    """Return whether `user_id` currently agrees to `purpose` on `channel`."""
    latest = (
        Consent.objects.filter(user_id=user_id, channel=channel, purpose=purpose)
        .order_by("-recorded_at", "-id")
        .values_list("status", flat=True)
        .first()
    )
    return consent_default(purpose) if latest is None else latest == Consent.Status.GRANTED


def consent_list(*, user_id: int) -> list[dict]:
    """Return the current choice for every (channel, purpose), with when and how it was made."""
    rows = {}
    for row in (
        Consent.objects.filter(user_id=user_id)
        .order_by("channel", "purpose", "-recorded_at", "-id")
        .values("channel", "purpose", "status", "source", "recorded_at")
    ):
        rows.setdefault((row["channel"], row["purpose"]), row)
    result = []
    for channel in Channel.values:
        for purpose in Purpose.values:
            row = rows.get((channel, purpose))
            result.append(
                {
                    "channel": channel,
                    "purpose": purpose,
                    "granted": consent_default(purpose) if row is None else row["status"] == Consent.Status.GRANTED,
                    "source": row["source"] if row else "default",
                    "recorded_at": row["recorded_at"] if row else None,
                }
            )
    return result


# ---------------------------------------------------------------------------------------------
# Sends and devices


def send_history(*, identity: Identity, limit: int) -> QuerySet[Send]:
    """Return the latest `limit` sends addressed to `identity`, newest first."""
    return Send.objects.filter(user_id=identity.user_id).order_by("-created_at", "-id")[:limit]


def notification_send_list(*, notification: Notification) -> list[dict]:
    """Return the id, channel, state and due time of each send of `notification`."""
    return list(notification.sends.values("id", "channel", "state", "due_at"))


def device_list(*, identity: Identity) -> QuerySet[DeviceToken]:
    """Return the push devices registered by `identity`, newest first."""
    return DeviceToken.objects.filter(user_id=identity.user_id).order_by("-registered_at")


def device_get(*, identity: Identity, device_id: int, operation: str = "select") -> DeviceToken:
    """Return one device `identity` may act on, or raise DeviceToken.DoesNotExist."""
    return policies.DEVICES.get(
        DeviceToken.objects.all(), identity, device_id, operation=operation, missing="No such device."
    )


# ---------------------------------------------------------------------------------------------
# Suppressions


def suppression_list(
    *, identity: Identity, channel: str | None = None, active: bool | None = None, user_id: int | None = None
) -> QuerySet[Suppression]:
    """Return the suppressions `identity` may see (admins: all; a user: their own)."""
    rows = policies.SUPPRESSIONS.scope(Suppression.objects.all(), identity)
    if channel:
        rows = rows.filter(channel=channel)
    if active is not None:
        rows = rows.filter(lifted_at__isnull=active)
    if user_id:
        rows = rows.filter(user_id=user_id)
    return rows


def suppression_get(
    *, identity: Identity | str, suppression_id: int, operation: str = "select", lock: bool = False
) -> Suppression:
    """Return one suppression `identity` may act on, or raise Suppression.DoesNotExist."""
    rows = Suppression.objects.select_for_update() if lock else Suppression.objects.all()
    return _get(policies.SUPPRESSIONS, rows, identity, suppression_id, operation)


# ---------------------------------------------------------------------------------------------
# Campaigns


def campaign_list(*, identity: Identity) -> QuerySet[Campaign]:
    """Return the campaigns `identity` may see, with their audience."""
    return policies.CAMPAIGNS.scope(Campaign.objects.select_related("audience"), identity)


class CampaignBusy(Exception):
    """Another transaction holds the campaign's row: a schedule, pause or resume runs now."""


@contextlib.contextmanager
def _at_once():
    """Row locks taken in the block do not wait (their query says NOWAIT): one held elsewhere raises
    CampaignBusy. A savepoint keeps the caller's transaction usable; the locks outlive it."""
    try:
        with transaction.atomic():
            yield
    except OperationalError as error:
        if getattr(error.__cause__, "sqlstate", None) != "55P03":  # lock_not_available
            raise
        raise CampaignBusy from None


def campaign_state_locked(*, campaign_id: int) -> tuple[str, int] | None:
    """(status, planned count) of the campaign, its row locked at once until the transaction ends
    (CampaignBusy when it cannot be); None when it is gone or hidden."""
    with _at_once():
        return (
            Campaign.objects.select_for_update(no_key=True, nowait=True)
            .filter(pk=campaign_id)
            .values_list("status", "planned_count")
            .first()
        )


def campaign_get(
    *, identity: Identity | str, campaign_id: int, operation: str = "select", lock: bool = False, nowait: bool = False
) -> Campaign:
    """Return one campaign (with its audience) `identity` may act on, or raise Campaign.DoesNotExist.

    `lock` takes FOR NO KEY UPDATE (campaign and audience): schedules, pauses and resumes of one campaign wait for each other,
    while the foreign-key checks of sends planned for it (FOR KEY SHARE, on other connections too) do not.
    With `nowait`, a row held elsewhere raises CampaignBusy at once instead.
    """
    campaigns = Campaign.objects.select_related("audience")
    if not lock:
        return _get(policies.CAMPAIGNS, campaigns, identity, campaign_id, operation)
    if not nowait:
        return _get(policies.CAMPAIGNS, campaigns.select_for_update(no_key=True), identity, campaign_id, operation)
    with _at_once():
        return _get(
            policies.CAMPAIGNS, campaigns.select_for_update(no_key=True, nowait=True), identity, campaign_id, operation
        )


def audience_count(audience: Audience, *, channel: str, purpose: str) -> int:
    """Return how many users `audience` reaches now on `channel` for `purpose`."""
    sql = f"""
        SELECT count(*) FROM accounts_user u
        LEFT JOIN ({LATEST_CONSENT}) lc ON lc.user_id = u.id
        WHERE true {audience_where(audience)} {reachable_sql(channel, purpose)}
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, audience_params(audience, channel, purpose))
        return cursor.fetchone()[0]


def send_id_sample() -> int:
    """Return an id as long as the next sends' ids (a tracked link's length depends on it)."""
    return (Send.objects.aggregate(last=Max("id"))["last"] or 0) + 1


def campaign_message(*, campaign: Campaign, language: str, send_id: int | None = None) -> dict:
    """Return what a recipient of `language` gets, tracked link and footer included (no data)."""
    click_url = ""
    if campaign.link_url:
        click_url = links.url(send_id or send_id_sample(), "click", target=campaign.link_url)
    return messages.campaign_message(
        templates=campaign.templates,
        language=language,
        channel=campaign.channel,
        purpose=campaign.purpose,
        click_url=click_url,
    )


def campaign_preview(*, campaign: Campaign, language: str, count: bool = False) -> dict:
    """Return the message a recipient of `language` gets; with `count`, how many recipients it reaches now.

    An SMS also shows the exact `text` with its footer, its `encoding` and `segments`.
    """
    template = campaign.templates.get(language) or campaign.templates[Language.ENGLISH]
    preview = {"language": language if language in campaign.templates else Language.ENGLISH, **template}
    if campaign.channel == Channel.SMS:
        message = campaign_message(campaign=campaign, language=preview["language"])
        measured = messages.sms_measure(message)
        preview.update(text=messages.text(message), encoding=measured.encoding, segments=measured.segments)
    elif campaign.channel == Channel.WHATSAPP and campaign.purpose in OPT_IN_PURPOSES:
        preview["footer"] = messages.footer("marketing", preview["language"])
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
# SMS cost: segments of every planned send, and of those that went out.
SEGMENTS = {
    "segments_planned": "true",
    "segments_sent": "state IN ('sent', 'delivered', 'opened', 'clicked', 'bounced', 'unknown')",
}


def campaign_stats(*, campaign: Campaign) -> dict:
    """Return the campaign's funnel: a count per stage, SMS segments, who opted out after it reached them."""
    counts = [f"count(*) FILTER (WHERE {condition})" for condition in STATS.values()]
    counts += [f"coalesce(sum(segments) FILTER (WHERE {condition}), 0)" for condition in SEGMENTS.values()]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(counts)} FROM notifications_send WHERE campaign_id = %s", [campaign.pk])
        stats = dict(zip([*STATS, *SEGMENTS], cursor.fetchone(), strict=True))
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


def horoscope_approved_list(*, days: set[dt.date]) -> list[tuple[int, str, dt.date]]:
    """Return (id, sign, date) of the approved daily horoscopes of `days`."""
    return list(
        Horoscope.objects.filter(
            date__in=days, scope=Horoscope.Scope.DAILY, approval_status=Horoscope.Approval.APPROVED
        ).values_list("id", "sign", "date")
    )
