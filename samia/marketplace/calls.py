"""The call lifecycle: scheduled -> (ringing) -> answered -> ended, or dropped on the way.

Each change is validated (409 when the call's state does not allow it), written, audited and
emitted in one transaction; the analytics rollups count answer and drop rates per reader.
Moderation ends a live call through the `calls` provider when one is configured in
settings.PROVIDERS; otherwise it marks the call for ending (`end_reason`), which the parties'
apps read as "hang up now".
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from samia import audit
from samia.events.services import emit
from samia.exceptions import Conflict, Unavailable
from samia.marketplace import selectors
from samia.marketplace.models import Call
from samia.providers import registry
from samia.providers.base import ProviderUnavailable
from samia.rls.registry import Identity

S = Call.Status
LIVE = (S.SCHEDULED, S.RINGING, S.ANSWERED)
# end_reason of a call moderation ended, and of a live call it marked for ending (no provider).
ENDED_BY_MODERATION = "moderation"
END_REQUESTED = "moderation_end_requested"


def _locked(identity: Identity, call_id: int) -> Call:
    return selectors.call_get(identity=identity, call_id=call_id, operation="update", lock=True)


def _check(call: Call, sources: tuple[str, ...], action: str) -> None:
    if call.status not in sources:
        raise Conflict(f"Cannot {action} a call that is {call.status}.", status=call.status, allowed_from=list(sources))


def _recorded(call: Call, *, identity: Identity, action: str, previous: str, event: str, **properties) -> Call:
    audit.record(action=f"call.{action}", actor=identity, target=call, details={"from": previous, "to": call.status})
    emit(
        event,
        1,
        actor=identity,
        subject=call,
        properties={"reader_id": call.reader_id, "order_id": call.order_id, **properties},
    )
    return call


def _seconds(call: Call, now: dt.datetime) -> int:
    return int((now - call.answered_at).total_seconds()) if call.answered_at else 0


@transaction.atomic
def call_schedule(*, identity: Identity, order_id: int, scheduled_at: dt.datetime) -> Call:
    """Schedule a call between an order's client and its assigned reader."""
    order = selectors.order_get(identity=identity, order_id=order_id)
    if order.reader_id is None:
        raise Conflict("The order has no reader yet.", status=order.status)
    call = Call.objects.create(
        order=order, client_id=order.client_id, reader_id=order.reader_id, scheduled_at=scheduled_at
    )
    return _recorded(call, identity=identity, action="schedule", previous="", event="call.scheduled")


@transaction.atomic
def call_answer(*, identity: Identity, call_id: int) -> Call:
    """Mark a scheduled or ringing call as answered."""
    call = _locked(identity, call_id)
    _check(call, (S.SCHEDULED, S.RINGING), "answer")
    previous, call.status, call.answered_at = call.status, S.ANSWERED, timezone.now()
    call.save(update_fields=["status", "answered_at"])
    return _recorded(call, identity=identity, action="answer", previous=previous, event="call.answered")


@transaction.atomic
def call_drop(*, identity: Identity, call_id: int, dropped_by: str, reason: str = "") -> Call:
    """Record that a live call was dropped, and by whom (client, reader or system)."""
    if dropped_by not in Call.Party.values:
        raise ValidationError({"dropped_by": [f"One of {', '.join(Call.Party.values)}."]})
    call = _locked(identity, call_id)
    _check(call, LIVE, "drop")
    now = timezone.now()
    previous, call.status, call.ended_at = call.status, S.DROPPED, now
    call.dropped_by, call.end_reason = dropped_by, reason[:40]
    call.save(update_fields=["status", "ended_at", "dropped_by", "end_reason"])
    return _recorded(
        call,
        identity=identity,
        action="drop",
        previous=previous,
        event="call.dropped",
        dropped_by=dropped_by,
        duration_seconds=_seconds(call, now),
    )


@transaction.atomic
def call_end(*, identity: Identity, call_id: int, reason: str = "completed") -> Call:
    """End an answered call normally."""
    call = _locked(identity, call_id)
    _check(call, (S.ANSWERED,), "end")
    return _end_answered(call, identity=identity, now=timezone.now(), reason=reason)


def _end_answered(call: Call, *, identity: Identity, now, reason: str) -> Call:
    previous, call.status, call.ended_at, call.end_reason = call.status, S.ENDED, now, reason[:40]
    call.save(update_fields=["status", "ended_at", "end_reason"])
    return _recorded(
        call,
        identity=identity,
        action="end",
        previous=previous,
        event="call.ended",
        duration_seconds=_seconds(call, now),
    )


@transaction.atomic
def call_moderate_end(*, identity: Identity, call_id: int) -> Call:
    """End a live call for moderation: through the calls provider when configured, else mark it for ending."""
    call = _locked(identity, call_id)
    _check(call, LIVE, "end")
    try:
        provider = registry.get("calls")
        provider.require()
    except ProviderUnavailable:
        if call.end_reason == END_REQUESTED:
            raise Conflict("This call is already marked for ending.", status=call.status) from None
        call.end_reason = END_REQUESTED
        call.save(update_fields=["end_reason"])
        audit.record(action="call.end_request", actor=identity, target=call, details={"status": call.status})
        return call
    result = provider.send(call_id=call.pk, action="end")
    if not result.ok:
        raise Unavailable("The calls provider did not end the call.", outcome=result.outcome.value, code=result.code)
    now = timezone.now()
    if call.status == S.ANSWERED:
        return _end_answered(call, identity=identity, now=now, reason=ENDED_BY_MODERATION)
    # Never connected: a failed call, not a drop the reader's drop rate would count.
    previous, call.status, call.ended_at, call.end_reason = call.status, S.FAILED, now, ENDED_BY_MODERATION
    call.save(update_fields=["status", "ended_at", "end_reason"])
    audit.record(action="call.end", actor=identity, target=call, details={"from": previous, "to": call.status})
    return call
