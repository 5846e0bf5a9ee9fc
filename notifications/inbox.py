"""Verified webhooks and tracking hits: stored by the request, acted on here (service role).

The request that receives a webhook only proves it is genuine and new, and appends it to the
inbox; it runs without an identity, so it may not touch anybody's sends or consents. This job
applies each inbox row once: delivery receipts, STOP/START keywords, opens and clicks.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from notifications.dispatch.messages import OPT_IN_KIND, footer
from notifications.models import Bounce, Channel, Consent, ConversationWindow, Purpose, Send, Suppression, WebhookEvent
from notifications.selectors import consent_default
from notifications.services import address_hash, consent_record, notify, suppression_add
from notifications.states import allowed
from samia.accounts.models import Language, User
from samia.events.services import emit

logger = logging.getLogger(__name__)
S = Send.State
SYSTEM = "system:notifications.inbox"

# Twilio delivery error codes: the number is gone for good, or its owner blocked us.
HARD_CODES = frozenset({"21610", "21211", "21614", "30005", "30006"})
COMPLAINT_CODES = frozenset({"30004"})


def digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def append(kind: str, channel: str, fingerprint: str, payload: dict) -> bool:
    """Store a verified hit once; False when the same one was stored before (a replay)."""
    columns = ("kind", "channel", "digest", "payload", "received_at", "processed_at", "outcome")
    values = [kind, channel, fingerprint, payload, timezone.now(), None, ""]
    prepared = [
        WebhookEvent._meta.get_field(c).get_db_prep_save(v, connection) for c, v in zip(columns, values, strict=True)
    ]
    # No conflict target: naming one (digest) makes Postgres require SELECT on the new row, which
    # RLS grants to admins only, so an anonymous webhook would be refused. digest is the only
    # unique column a new row can collide on.
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO notifications_webhookevent ({', '.join(columns)}) "
            f"VALUES ({', '.join(['%s'] * len(columns))}) ON CONFLICT DO NOTHING",
            prepared,
        )
        return cursor.rowcount == 1


def process(limit: int = 500) -> int:
    """Apply pending inbox rows, oldest first; safe to run concurrently. Returns how many."""
    done = 0
    while True:
        with transaction.atomic():
            events = list(
                WebhookEvent.objects.select_for_update(skip_locked=True)
                .filter(processed_at__isnull=True)
                .order_by("id")[:limit]
            )
            for event in events:
                try:
                    with transaction.atomic():
                        outcome = HANDLERS[event.kind](event)
                except (IntegrityError, ValueError, KeyError) as error:
                    outcome = f"error:{type(error).__name__}"
                    logger.warning(
                        "inbox event not applied", extra={"event_id": event.pk, "error": type(error).__name__}
                    )
                # Keep what replay protection and reports need; drop the sender's number.
                if "from" in event.payload:
                    event.payload = {**event.payload, "from": address_hash(event.payload["from"])}
                event.processed_at = timezone.now()
                event.outcome = outcome[:40]
                event.save(update_fields=["payload", "processed_at", "outcome"])
        done += len(events)
        if len(events) < limit:
            return done


def _advance(send: Send, target: str, **fields) -> bool:
    if not allowed(send.state, target) or send.state == target:
        return False
    Send.objects.filter(pk=send.pk).update(state=target, state_changed_at=timezone.now(), **fields)
    return True


def _event(name: str, send: Send) -> None:
    properties = {"channel": send.channel}
    if send.campaign_id:
        properties["campaign_id"] = send.campaign_id
    emit(name, 1, subject=("notifications.send", send.pk), properties=properties)


def on_status(event: WebhookEvent) -> str:
    """A Twilio delivery receipt: move the send forward; bounces suppress the number."""
    data = event.payload
    send = (
        Send.objects.select_for_update()
        .filter(provider=event.channel, message_id=data.get("sid", ""))
        .exclude(message_id="")
        .first()
    )
    if send is None and str(data.get("send", "")).isdigit():
        # A send whose outcome we never learned (the request timed out after Twilio took it):
        # the signed callback URL names it, and the receipt settles it.
        send = (
            Send.objects.select_for_update()
            .filter(pk=int(data["send"]), channel=event.channel, state=S.UNKNOWN, message_id="")
            .first()
        )
        if send is not None:
            Send.objects.filter(pk=send.pk).update(message_id=data.get("sid", "")[:200])
            if _advance(send, S.SENT, sent_at=timezone.now()):
                send.state = S.SENT
                _event("notification.sent", send)  # counted now that we know it went out
    if send is None:
        return "unknown_message"
    status, code = data.get("status", ""), str(data.get("error_code") or "")
    now = timezone.now()
    if status == "sent":
        return "sent" if _advance(send, S.SENT, sent_at=send.sent_at or now) else "stale"
    if status == "delivered":
        if _advance(send, S.DELIVERED, delivered_at=now):
            _event("notification.delivered", send)
            return "delivered"
        return "stale"
    if status == "read":
        if _advance(send, S.OPENED, opened_at=now, delivered_at=send.delivered_at or now):
            _event("notification.opened", send)
            return "opened"
        return "stale"
    if status in ("undelivered", "failed", "canceled"):
        if code in COMPLAINT_CODES:
            kind, target, reason = Bounce.Kind.COMPLAINT, S.BOUNCED, Suppression.Reason.COMPLAINT
        elif code in HARD_CODES:
            kind, target = Bounce.Kind.HARD, S.BOUNCED
            reason = Suppression.Reason.UNSUBSCRIBED if code == "21610" else Suppression.Reason.HARD_BOUNCE
        else:
            kind, target, reason = Bounce.Kind.SOFT, S.FAILED, None
        Bounce.objects.create(send=send, channel=send.channel, kind=kind, code=code or status)
        _advance(send, target, last_error=(code or status)[:40])
        if kind == Bounce.Kind.COMPLAINT:  # monitors see complaints, whatever state the send reached
            Send.objects.filter(pk=send.pk).update(escalated=True)
        if reason:
            phone = User.objects.filter(pk=send.user_id).values_list("phone", flat=True).first() or ""
            suppression_add(
                channel=send.channel, reason=reason, actor=SYSTEM, user_id=send.user_id, address=phone, note=code
            )
        return f"bounce:{kind}"
    return "progress"


def on_inbound(event: WebhookEvent) -> str:
    """An inbound SMS or WhatsApp: STOP opts the number out, START back in; any WhatsApp opens the window."""
    data = event.payload
    number, channel = data.get("from", ""), event.channel
    if not number:
        return "no_sender"
    hashed = address_hash(number)
    now = timezone.now()
    if channel == Channel.WHATSAPP:
        ConversationWindow.objects.update_or_create(
            channel=channel, address_hash=hashed, defaults={"last_inbound_at": now}
        )
    users = list(User.objects.filter(phone=number).values_list("id", flat=True))
    word = data.get("keyword", "")
    if word == "stop":
        suppression_add(
            channel=channel,
            reason=Suppression.Reason.STOP,
            actor=SYSTEM,
            user_id=users[0] if len(users) == 1 else None,
            address=number,
        )
        for user_id in users:
            for purpose in Purpose.values:
                consent_record(
                    user_id=user_id,
                    channel=channel,
                    purpose=purpose,
                    granted=False,
                    source=Consent.Source.SMS_KEYWORD,
                    actor=SYSTEM,
                )
        return "opted_out"
    if word == "start":
        lifted = Suppression.objects.filter(
            channel=channel, lifted_at__isnull=True, reason__in=("stop", "unsubscribed")
        )
        lifted.filter(address_hash=hashed).update(lifted_at=now)
        if users:
            lifted.filter(user_id__in=users).update(lifted_at=now)
        for user_id in users:
            for purpose in Purpose.values:
                if _revoked_by_keyword_only(user_id, channel, purpose):
                    consent_record(
                        user_id=user_id,
                        channel=channel,
                        purpose=purpose,
                        granted=True,
                        source=Consent.Source.SMS_KEYWORD,
                        actor=SYSTEM,
                    )
        if not data.get("opt_out_type"):  # with Advanced Opt-Out on, Twilio has answered already
            _opt_in_confirm(event, channel, users)
        return "opted_in"
    return "help" if word == "help" else "message"


def _opt_in_confirm(event: WebhookEvent, channel: str, users: list[int]) -> None:
    """Plan the one answer to this opt-in: the brand and how to stop, in the recipient's language.

    It goes as a transactional, critical send (no quiet hours) to the account holding the number,
    deduplicated by the inbox row. A number no account holds gets none: nothing is sent to it.
    """
    if not users:
        return
    languages = set(User.objects.filter(pk__in=users).values_list("language", flat=True))
    language = languages.pop() if len(languages) == 1 else Language.ENGLISH
    notify(
        user_id=min(users),
        kind=OPT_IN_KIND,
        title="",
        body=footer("opt_in", language),
        actor=SYSTEM,
        channels=(channel,),
        critical=True,
        dedupe=f"opt-in:{event.pk}",
        window_hours=1,
    )


def _revoked_by_keyword_only(user_id: int, channel: str, purpose: str) -> bool:
    """True when the latest choice is a keyword opt-out and the choice before the STOP was "yes".

    STOP revokes every purpose; START must not grant what the user never agreed to (or declined
    in the app before), so it looks past the keyword opt-outs at the choice they replaced.
    """
    history = (
        Consent.objects.filter(user_id=user_id, channel=channel, purpose=purpose)
        .order_by("-recorded_at", "-id")
        .values_list("status", "source")
    )
    stopped = False
    for status, source in history:
        if (status, source) != (Consent.Status.REVOKED, Consent.Source.SMS_KEYWORD):
            return stopped and status == Consent.Status.GRANTED
        stopped = True
    return stopped and consent_default(purpose)


def on_tracking(event: WebhookEvent) -> str:
    send = Send.objects.select_for_update().filter(pk=event.payload.get("send_id")).first()
    if send is None:
        return "unknown_send"
    now = timezone.now()
    if event.kind == WebhookEvent.Kind.OPEN:
        if _advance(send, S.OPENED, opened_at=send.opened_at or now):
            _event("notification.opened", send)
            return "opened"
        return "stale"
    if _advance(send, S.CLICKED, clicked_at=now, opened_at=send.opened_at or now):
        _event("notification.clicked", send)
        return "clicked"
    return "stale"


HANDLERS = {
    WebhookEvent.Kind.STATUS: on_status,
    WebhookEvent.Kind.INBOUND: on_inbound,
    WebhookEvent.Kind.OPEN: on_tracking,
    WebhookEvent.Kind.CLICK: on_tracking,
}


def purge(days: int) -> int:
    """Forget processed inbox rows older than `days` (replay protection lasts as long)."""
    cutoff = timezone.now() - dt.timedelta(days=days)
    deleted, _ = WebhookEvent.objects.filter(processed_at__isnull=False, received_at__lt=cutoff).delete()
    return deleted
