"""Writes on the marketplace: validate, act, stamp, and hand over to the audit seam."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
import uuid

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from samia import audit
from samia.accounts.models import Role, User
from samia.events.services import emit
from samia.exceptions import Conflict
from samia.marketplace import policies, publishing, selectors
from samia.marketplace.event_schemas import ORDER_EVENTS
from samia.marketplace.media import sniff
from samia.marketplace.models import Horoscope, MediaAsset, Order, OrderIdempotencyKey, Service
from samia.marketplace.states import ALL_TRANSITIONS, HELD
from samia.rls.registry import Identity

logger = logging.getLogger(__name__)
# How long an Idempotency-Key is remembered (Stripe's and the IETF draft's practice: a day).
IDEMPOTENCY_WINDOW = dt.timedelta(hours=24)
_IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,255}")


@transaction.atomic
def order_create(*, identity: Identity, service_code: str, question: str, is_gold: bool = False) -> Order:
    """Create a new order for the calling client."""
    service = Service.objects.filter(code=service_code, is_active=True).first()
    if service is None:
        raise ValidationError({"service": ["Unknown or inactive service."]})
    order = Order.objects.create(
        client_id=identity.user_id, service=service, question=question.strip(), is_gold=is_gold
    )
    order_recorded(order=order, action="create", identity=identity)
    return order


@transaction.atomic
def order_create_once(
    *, identity: Identity, key: str | None, service_code: str, question: str, is_gold: bool = False
) -> tuple[Order, bool]:
    """Create the order once per client and key; a retry within the window gets the same order (and True)."""
    if key is None:
        return order_create(identity=identity, service_code=service_code, question=question, is_gold=is_gold), False
    if not _IDEMPOTENCY_KEY.fullmatch(key):
        raise ValidationError({"Idempotency-Key": ["1 to 255 printable ASCII characters without spaces, e.g. a UUID."]})
    request = json.dumps([service_code, question.strip(), is_gold])
    fingerprint = hashlib.sha256(request.encode()).hexdigest()
    try:
        # A concurrent retry waits here on the unique index until the first one commits or rolls back.
        with transaction.atomic():
            claim = OrderIdempotencyKey.objects.create(client_id=identity.user_id, key=key, fingerprint=fingerprint)
    except IntegrityError:
        claim = OrderIdempotencyKey.objects.select_for_update().get(client_id=identity.user_id, key=key)
        if claim.created_at >= timezone.now() - IDEMPOTENCY_WINDOW:
            if claim.fingerprint != fingerprint:
                raise Conflict(
                    "This Idempotency-Key was used with a different request.", reason="idempotency_key_reused"
                ) from None
            return selectors.order_get(identity=identity, order_id=claim.order_id), True
        claim.fingerprint, claim.created_at = fingerprint, timezone.now()  # expired: a new request
    claim.order = order_create(identity=identity, service_code=service_code, question=question, is_gold=is_gold)
    claim.save(update_fields=["fingerprint", "created_at", "order"])
    return claim.order, False


def idempotency_keys_purge() -> int:
    """Forget the Idempotency-Keys older than the window (service role)."""
    cutoff = timezone.now() - IDEMPOTENCY_WINDOW
    deleted, _ = OrderIdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted


@transaction.atomic
def order_transition(
    *, identity: Identity, order_id: int, action: str, reader_id: int | None = None, reason: str = ""
) -> Order:
    """Move an order along the state machine; 404 if invisible, 409 if its state does not allow it."""
    transition = ALL_TRANSITIONS[action]
    order = selectors.order_get(identity=identity, order_id=order_id)
    if order.status in transition.sources:
        # FOR UPDATE applies the UPDATE policies too: a row this role may not change comes back empty.
        visible = selectors.order_list(identity=identity)
        locked = visible.select_for_update(of=("self",)).filter(pk=order_id).first()
        if locked is None:
            raise Conflict(f"Cannot {action} this order now.", status=order.status)
        order = locked
    if order.status not in transition.sources:
        raise Conflict(
            f"Cannot {action} an order that is {order.status}.",
            status=order.status,
            allowed_from=list(transition.sources),
        )
    fields = ["status", transition.stamp]
    if action == "assign":
        order.reader_id = _active_reader(reader_id).pk
        fields.append("reader")
    if action == "reject":
        order.rejection_reason = reason
        fields.append("rejection_reason")
    previous = order.status
    if transition.target is None:  # release: back where it was held from
        order.status, order.held_from = order.held_from, ""
        fields.append("held_from")
    else:
        if order.status not in HELD and transition.target in HELD:
            order.held_from = order.status
            fields.append("held_from")
        order.status = transition.target
    setattr(order, transition.stamp, timezone.now())
    order.save(update_fields=fields)
    order_recorded(order=order, action=action, identity=identity, previous=previous)
    return order


def _active_reader(reader_id: int | None) -> User:
    reader = User.objects.filter(pk=reader_id, role=Role.READER, is_active=True).first() if reader_id else None
    if reader is None or reader.is_blocked:
        raise ValidationError({"reader_id": ["Choose an active reader."]})
    return reader


def order_recorded(*, order: Order, action: str, identity: Identity, previous: str | None = None) -> None:
    """The one seam every order change passes through: its audit entry and its analytics event."""
    audit.record(
        action=f"marketplace.order.{action}",
        actor=identity,
        target=order,
        details={"from": previous, "to": order.status, "gold": order.is_gold},
    )
    event = ORDER_EVENTS.get(action)
    if event:
        emit(
            event,
            1,
            actor=identity,
            subject=order,
            properties={
                "service": Service.objects.values_list("code", flat=True).get(pk=order.service_id),
                "gold": order.is_gold,
                "from_status": previous,
                "to_status": order.status,
                "reader_id": order.reader_id,
            },
        )


def media_asset_create(*, owner_id: int, content: bytes, kind: str = "", order_id: int | None = None) -> MediaAsset:
    """Store bytes privately and record what the server measured of them (size, sha256, type, duration)."""
    measured = sniff(content)
    key = f"media/{uuid.uuid4().hex}"
    default_storage.save(key, ContentFile(content))
    return MediaAsset.objects.create(
        owner_id=owner_id,
        order_id=order_id,
        kind=kind or measured.kind,
        storage_key=key,
        content_type=measured.content_type,
        bytes=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        duration_seconds=measured.duration_seconds,
    )


@transaction.atomic
def horoscope_approve(*, identity: Identity, horoscope_id: int) -> Horoscope:
    """Approve a horoscope for publishing; refused while one of its languages is auto-translated and unreviewed."""
    horoscope = policies.HOROSCOPES.get(
        Horoscope.objects.select_for_update(),
        identity,
        horoscope_id,
        operation="update",
        missing=gettext_noop("No such horoscope."),  # answered in the caller's language (samia.errors)
    )
    if horoscope.approval_status == Horoscope.Approval.APPROVED:
        return horoscope
    publishing.horoscope_approval_check(horoscope)
    horoscope.approval_status = Horoscope.Approval.APPROVED
    horoscope.approved_by_id = identity.user_id
    horoscope.approved_at = timezone.now()
    horoscope.save(update_fields=["approval_status", "approved_by", "approved_at"])
    audit.record(action="marketplace.horoscope.approve", actor=identity, target=horoscope)
    return horoscope
