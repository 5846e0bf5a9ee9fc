"""Consent, suppressions, device tokens and single notifications.

Every function runs in the caller's transaction and identity: under RLS in a request, as the
service role in jobs. Staff actions leave an audit entry; message bodies and addresses never do.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop

from notifications import selectors
from notifications.models import (
    OPT_IN_PURPOSES,
    Channel,
    Consent,
    DeviceToken,
    LiftReason,
    Notification,
    Purpose,
    Send,
    Suppression,
)
from samia import audit
from samia.accounts import languages
from samia.accounts.models import Language, User
from samia.exceptions import Conflict
from samia.rls.registry import Identity

# Inbound keywords (Twilio's standard opt-out set); matched on the whole trimmed message.
STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"})
START_WORDS = frozenset({"START", "YES", "UNSTOP"})
HELP_WORDS = frozenset({"HELP", "INFO"})
# The default NOTIFICATIONS_HELP_TEXT, marked so the catalogs carry its translation.
HELP_TEXT = gettext_noop("SAMIA: reading updates and offers. Reply STOP to unsubscribe, START to resubscribe.")


def keyword(body: str, opt_out_type: str = "") -> str:
    """stop, start, help or "" for an inbound message; Advanced Opt-Out's OptOutType wins when given."""
    if opt_out_type:
        return {"STOP": "stop", "START": "start", "HELP": "help"}.get(opt_out_type.strip().upper(), "")
    word = body.strip().upper()
    if word in STOP_WORDS:
        return "stop"
    if word in START_WORDS:
        return "start"
    if word in HELP_WORDS:
        return "help"
    return ""


def help_text(number: str) -> str:
    """Return the HELP reply in the language of the account holding `number` (English when unknown)."""
    language = languages.phone_language(number) or Language.ENGLISH
    with translation.override(language):
        return gettext(settings.NOTIFICATIONS_HELP_TEXT)  # a customised text without a translation stays as set


def address_hash(address: str) -> str:
    """A keyed hash of a phone number or device token: matchable, not reversible."""
    key = settings.NOTIFICATIONS_ADDRESS_KEY.encode()
    return hmac.new(key, address.strip().encode(), hashlib.sha256).hexdigest()


# ---------------------------------------------------------------------------------------------
# Consent


def consent_record(
    *,
    user_id: int,
    channel: str,
    purpose: str,
    granted: bool,
    source: str,
    actor: Identity | str,
    text_version: str | None = None,
) -> Consent:
    """Append a consent decision; it applies to every later send check, including planned sends."""
    if channel not in Channel.values:
        raise ValidationError({"channel": [f"One of {', '.join(Channel.values)}."]})
    if purpose not in Purpose.values:
        raise ValidationError({"purpose": [f"One of {', '.join(Purpose.values)}."]})
    recorded_by = actor.user_id if isinstance(actor, Identity) else None
    consent = Consent(
        user_id=user_id,
        channel=channel,
        purpose=purpose,
        status=Consent.Status.GRANTED if granted else Consent.Status.REVOKED,
        lawful_basis=Consent.Basis.CONSENT if purpose in OPT_IN_PURPOSES else Consent.Basis.CONTRACT,
        source=source,
        text_version=text_version or settings.NOTIFICATIONS_CONSENT_TEXT_VERSION,
        recorded_by_id=recorded_by,
    )
    consent.save(force_insert=True)
    audit.record(
        action=f"notifications.consent.{'grant' if granted else 'revoke'}",
        actor=actor,
        target=("accounts.user", user_id),
        details={"channel": channel, "purpose": purpose, "source": source},
    )
    return consent


# ---------------------------------------------------------------------------------------------
# Suppressions


def suppression_add(
    *,
    channel: str,
    reason: str,
    actor: Identity | str,
    user_id: int | None = None,
    address: str = "",
    note: str = "",
) -> Suppression | None:
    """Suppress a user or an address on a channel; None when an active suppression already covers it."""
    manual = isinstance(actor, Identity)
    hashed = address_hash(address) if address else ""
    if user_id is None and not hashed:
        raise ValidationError({"detail": ["Name a user or an address."]})
    existing = Suppression.objects.filter(channel=channel, lifted_at__isnull=True)
    if (user_id is not None and existing.filter(user_id=user_id).exists()) or (
        hashed and existing.filter(address_hash=hashed).exists()
    ):
        if manual:
            raise Conflict("An active suppression already covers this recipient.", status="suppressed")
        return None
    suppression = Suppression(
        channel=channel,
        user_id=user_id,
        address_hash=hashed,
        reason=reason,
        source=Suppression.Source.MANUAL if manual else Suppression.Source.AUTOMATIC,
        note=note,
        created_by_id=actor.user_id if manual else None,
    )
    try:
        with transaction.atomic():
            suppression.save(force_insert=True)
    except IntegrityError:  # a concurrent writer suppressed it first
        if manual:
            raise Conflict("An active suppression already covers this recipient.", status="suppressed") from None
        return None
    audit.record(
        action="notifications.suppression.add",
        actor=actor,
        target=suppression,
        details={"channel": channel, "reason": reason, "by_address": bool(hashed)},
    )
    return suppression


def suppression_lift(*, suppression_id: int, actor: Identity | str, reason: str = "") -> Suppression:
    """Lift an active suppression: the recipient may be reached again on its channel."""
    if reason and reason not in LiftReason.values:  # the audit takes codes, not notes
        raise ValidationError({"reason": [f"One of {', '.join(LiftReason.values)}."]})
    suppression = selectors.suppression_get(
        identity=actor, suppression_id=suppression_id, operation="update", lock=True
    )
    if suppression.lifted_at is not None:
        raise Conflict("This suppression is already lifted.", status="lifted")
    suppression.lifted_at = timezone.now()
    suppression.lifted_by_id = actor.user_id if isinstance(actor, Identity) else None
    suppression.save(update_fields=["lifted_at", "lifted_by"])
    audit.record(
        action="notifications.suppression.lift",
        actor=actor,
        target=suppression,
        details={"channel": suppression.channel, "reason": reason or suppression.reason},
    )
    return suppression


# ---------------------------------------------------------------------------------------------
# Device tokens


def device_register(*, user: User, platform: str, token: str) -> DeviceToken:
    """Register (or re-register) a push token for the caller; a token moves to its newest owner."""
    token = token.strip()
    if platform not in DeviceToken.Platform.values:
        raise ValidationError({"platform": [f"One of {', '.join(DeviceToken.Platform.values)}."]})
    if not token or len(token) > 4096:
        raise ValidationError({"token": ["A device token of 1 to 4096 characters."]})
    # The token may still name another account (a shared or resold phone), whose row the caller
    # cannot see: a SECURITY DEFINER function moves it to the caller's own identity. The install
    # owns the token (FCM practice), so the previous account's sends no longer reach the device.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT device, previous_user FROM notifications_device_claim(%s, %s, %s)",
            [platform, token, address_hash(token)],
        )
        device_id, previous_user_id = cursor.fetchone()
    if previous_user_id is not None:
        audit.record(
            action="notifications.device.reassign",
            actor=user,
            target=("notifications.devicetoken", device_id),
            details={"platform": platform, "from_user_id": previous_user_id},
        )
    # The function also lifts an automatic invalid-token suppression of this token.
    return DeviceToken.objects.get(pk=device_id)


def device_deactivate(device: DeviceToken, reason: str, *, unregistered_at: dt.datetime | None = None) -> bool:
    """Deactivate a dead token, unless the app re-registered it after the provider's verdict."""
    if unregistered_at is not None and device.registered_at > unregistered_at:
        return False
    updated = DeviceToken.objects.filter(pk=device.pk, active=True).update(
        active=False, deactivated_at=timezone.now(), deactivated_reason=reason[:40]
    )
    return bool(updated)


# ---------------------------------------------------------------------------------------------
# Single notifications


def notify(
    *,
    user_id: int,
    kind: str,
    title: str,
    body: str,
    actor: Identity | str,
    channels: tuple[str, ...] = (Channel.PUSH,),
    purpose: str = Purpose.TRANSACTIONAL,
    critical: bool = False,
    data: dict | None = None,
    dedupe: str = "",
    due_at: dt.datetime | None = None,
    window_hours: int = 24,
) -> Notification:
    """Plan one message to one user on each of `channels`; the dispatcher sends it when due."""
    if critical and purpose != Purpose.TRANSACTIONAL:
        raise ValidationError({"critical": ["Only transactional messages may be critical."]})
    user = selectors.recipient_get(user_id=user_id)
    notification = Notification(
        user_id=user_id,
        kind=kind,
        purpose=purpose,
        critical=critical,
        title=title,
        body=body,
        data={k: str(v) for k, v in (data or {}).items()},
        created_by_id=actor.user_id if isinstance(actor, Identity) else None,
    )
    notification.save(force_insert=True)
    due_at = due_at or timezone.now()
    for channel in channels:
        if channel not in Channel.values:
            raise ValidationError({"channels": [f"Each one of {', '.join(Channel.values)}."]})
        Send.objects.create(
            notification=notification,
            user_id=user_id,
            channel=channel,
            purpose=purpose,
            critical=critical,
            kind=kind,
            dedupe_key=f"{dedupe or f'notification:{notification.pk}'}:{channel}"[:80],
            language=user.language,
            due_at=due_at,
            expires_at=due_at + dt.timedelta(hours=window_hours),
        )
    if isinstance(actor, Identity):
        audit.record(
            action="notifications.notification.create",
            actor=actor,
            target=notification,
            details={"kind": kind, "channels": list(channels), "critical": critical},
        )
    return notification
