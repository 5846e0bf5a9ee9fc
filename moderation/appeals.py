"""Appeals: the subject (or staff on their behalf) appeals an action; staff uphold, overturn or modify it.

Moved out of services.py (which keeps blocks, orders, cases and jobs); the restriction helpers are
shared from there. An overturn lifts the restriction; a modify changes it: a block's duration (the
new expiry counted from the block's start) or an unlisting replaced by a hold.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from moderation import policies, targets
from moderation.models import Appeal, ModerationAction
from moderation.services import APPEALABLE, Code, _actions, _check_rank, _clear_block, _lift
from samia import audit
from samia.accounts.models import User
from samia.accounts.policies import USERS
from samia.exceptions import Conflict
from samia.marketplace import policies as marketplace_policies
from samia.marketplace import services as marketplace_services
from samia.marketplace.models import Order
from samia.marketplace.states import HELD
from samia.rls.registry import Identity


@transaction.atomic
def appeal_open(*, identity: Identity, action_id: int, statement: str = "") -> Appeal:
    """Open an appeal on an action: its subject in their own name, or staff on their behalf."""
    action = policies.ACTIONS.get(ModerationAction.objects.all(), identity, action_id, missing="No such action.")
    if action.action not in APPEALABLE:
        raise Conflict("This action cannot be appealed.", action=action.action)
    if not action.is_in_force:
        raise Conflict("This action is no longer in force.", lift_reason=action.lift_reason or "expired")
    existing = policies.APPEALS.scope(Appeal.objects.all(), identity).filter(action=action).first()
    if existing is not None:
        raise Conflict("This action has already been appealed.", appeal_id=existing.pk, status=existing.status)
    appeal = Appeal.objects.create(
        action=action, subject_id=action.subject_id, opened_by_id=identity.user_id, statement=statement.strip()
    )
    audit.record(
        action="moderation.appeal.open",
        actor=identity,
        target=appeal,
        details={"action_id": action.pk, "case_id": action.case_id},
    )
    return appeal


@transaction.atomic
def appeal_resolve(
    *, identity: Identity, appeal_id: int, decision: str, rationale: str, modify: dict | None = None
) -> Appeal:
    """Decide an appeal: an overturn lifts the restriction, a modify changes it (`modify`: duration or action).

    Raise Conflict when the appeal is already decided or its action is no longer in force (modify).
    """
    appeal = policies.APPEALS.get(
        Appeal.objects.select_for_update(of=("self",)), identity, appeal_id, missing="No such appeal."
    )
    if appeal.status == Appeal.Status.DECIDED:
        raise Conflict("This appeal has already been decided.", status=appeal.status, decision=appeal.decision)
    details: dict = {"lifted": False}
    if decision == Appeal.Decision.OVERTURN:
        details["lifted"] = _overturn(identity=identity, action=appeal.action, appeal=appeal)
    elif decision == Appeal.Decision.MODIFY:
        details.update(_modify(identity=identity, appeal=appeal, changes=modify or {}))
    appeal.status = Appeal.Status.DECIDED
    appeal.decision = decision
    appeal.decided_at = timezone.now()
    appeal.decided_by_id = identity.user_id
    appeal.notes = rationale.strip()
    appeal.save(update_fields=["status", "decision", "decided_at", "decided_by", "notes", "replacement"])
    appeal.action.refresh_from_db()  # lifted or changed above: the answer shows it as it stands
    audit.record(
        action="moderation.appeal.resolve",
        actor=identity,
        target=appeal,
        details={"action_id": appeal.action_id, "decision": decision, **details},
    )
    return appeal


def _overturn(*, identity: Identity, action: ModerationAction, appeal: Appeal) -> bool:
    """Undo what `action` still does; return whether a restriction was lifted."""
    in_force = action.is_in_force
    _lift(ModerationAction.objects.filter(pk=action.pk), identity=identity, reason="overturned")
    if not in_force:
        return False
    target = targets.get(action.target_type)
    if target is not None:  # registered by the app that owns the target (community: a comment)
        return target.restore(identity=identity, action=action)
    details = {"action_id": action.pk, "appeal_id": appeal.pk}
    if action.action == Code.BLOCK:
        user = USERS.get(User.objects.all(), identity, action.subject_id, missing="No such user.")
        _check_rank(identity, user, "unblock")
        others = (
            _actions(identity).filter(subject=user, action=Code.BLOCK, lifted_at__isnull=True).exclude(pk=action.pk)
        )
        if user.is_blocked and not others.exists():
            _clear_block(user)
            audit.record(action="moderation.user.unblock", actor=identity, target=user, details=details)
        return True
    if action.action in (Code.HOLD, Code.UNLIST):
        order = Order.objects.filter(pk=action.target_id).first()
        others = _actions(identity).filter(
            target_type="order", target_id=action.target_id, action__in=[Code.HOLD, Code.UNLIST], lifted_at__isnull=True
        )
        if order is not None and order.status in HELD and not others.exists():
            marketplace_services.order_transition(identity=identity, order_id=order.pk, action="release")
            audit.record(action="moderation.order.release", actor=identity, target=order, details=details)
        return True
    # Removed media cannot come back: the stored bytes are gone; the lineage row stays.
    return True


def _seconds(duration: dt.timedelta | None) -> int | None:
    return int(duration.total_seconds()) if duration else None


def _modify(*, identity: Identity, appeal: Appeal, changes: dict) -> dict:
    """Change what the appealed action does; return the audit details (ids and codes)."""
    action = appeal.action
    if not action.is_in_force:
        raise Conflict("This action is no longer in force.", lift_reason=action.lift_reason or "expired")
    if action.action == Code.BLOCK and set(changes) == {"duration"}:
        return _block_duration_change(identity=identity, action=action, duration=changes["duration"])
    if action.action == Code.UNLIST and changes == {"action": Code.HOLD}:
        return _unlist_to_hold(identity=identity, appeal=appeal)
    raise ValidationError(
        {"decision": ["A modify changes a block's duration (duration) or replaces an unlisting by a hold (action)."]}
    )


def _block_duration_change(*, identity: Identity, action: ModerationAction, duration: dt.timedelta | None) -> dict:
    """Shorten or lengthen a block: it now ends `duration` after it started (None: indefinite)."""
    user = USERS.get(User.objects.all(), identity, action.subject_id, missing="No such user.")
    _check_rank(identity, user, "block")
    previous = action.duration
    action.duration = duration
    action.expires_at = action.created_at + duration if duration else None
    action.save(update_fields=["duration", "expires_at"])
    # A block that now ends in the past is over at once (User.is_blocked reads blocked_until); the
    # expiry job clears it and lifts the action as expired. The database checks this change against
    # the action and the appeal (moderation.sql.BLOCK_EXPLAINED, 'modify').
    user.blocked_until = action.expires_at
    user.save(update_fields=["blocked_until"])
    return {"previous_seconds": _seconds(previous), "duration_seconds": _seconds(duration)}


def _unlist_to_hold(*, identity: Identity, appeal: Appeal) -> dict:
    """Replace an unlisting by a hold: the order comes back to where it was, then is held."""
    action = appeal.action
    order = marketplace_policies.ORDERS.get(Order.objects.all(), identity, action.target_id, missing="No such order.")
    if order.status != "unlisted":
        raise Conflict("This order is not unlisted.", status=order.status)
    previous = order.status
    marketplace_services.order_transition(identity=identity, order_id=order.pk, action="release")
    order = marketplace_services.order_transition(identity=identity, order_id=order.pk, action=Code.HOLD)
    _lift(ModerationAction.objects.filter(pk=action.pk), identity=identity, reason="modified")
    appeal.replacement = ModerationAction.objects.create(
        actor_id=identity.user_id,
        action=Code.HOLD,
        target_type=ModerationAction.TargetType.ORDER,
        target_id=order.pk,
        subject_id=action.subject_id,
        reason=action.reason,
        evidence=action.evidence,
        case=action.case,
    )
    return {"replacement_id": appeal.replacement.pk, "from": previous, "to": order.status}
