"""Moderation writes: block and unblock users, act on orders and their media, cases, jobs.

Appeals live in appeals.py and calls in calls.py; both share the helpers below.

Each service validates, acts through the kernel's own seams (the order state machine, the
user's restriction columns), records a ModerationAction on a Case and writes the audit entry,
all in the caller's transaction, so a refused request leaves nothing behind.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.utils import timezone

from moderation import policies
from moderation.models import SEVERITY_ORDER, SLA, Case, ModerationAction, ReasonCode
from samia import audit
from samia.accounts.models import Role, User
from samia.accounts.policies import USERS
from samia.audit import selectors as audit_selectors
from samia.exceptions import Conflict
from samia.marketplace import policies as marketplace_policies
from samia.marketplace import services as marketplace_services
from samia.marketplace.models import MediaAsset, Order
from samia.rls.registry import Identity

Code = ModerationAction.Code
MAX_DURATION = dt.timedelta(days=3650)
ORDER_ACTIONS = (Code.HOLD, Code.UNLIST, Code.RELEASE, Code.REMOVE_MEDIA, Code.ESCALATE)
APPEALABLE = (Code.BLOCK, Code.HOLD, Code.UNLIST, Code.REMOVE_MEDIA, Code.HIDE_COMMENT, Code.REMOVE_COMMENT)
SYSTEM_EXPIRY = "system:moderation.expire_blocks"


def _reason(code: str) -> ReasonCode:
    reason = ReasonCode.objects.filter(code=code, is_active=True).first()
    if reason is None:
        raise ValidationError({"reason": ["Unknown or inactive reason code."]})
    return reason


def _check_rank(identity: Identity, user: User, verb: str) -> None:
    if user.pk == identity.user_id:
        raise PermissionDenied(f"You may not {verb} yourself.")
    # Who outranks whom: a moderator restricts only users of a lower rank, never themselves.
    if Role(user.role).rank >= Role(identity.role).rank:
        raise PermissionDenied(f"You may not {verb} a user of your rank or above.")


def _case_for(
    *, identity: Identity, subject_id: int, reason: ReasonCode, order: Order | None = None, media=None, call=None
) -> Case:
    """Return the unresolved case this action belongs to, opening one when there is none."""
    cases = policies.CASES.scope(Case.objects.all(), identity).exclude(status=Case.Status.RESOLVED)
    if call is not None:
        case = cases.filter(call=call).order_by("id").first()
    elif order is not None:
        case = cases.filter(order=order).order_by("id").first()
    else:
        case = cases.filter(subject_id=subject_id, order__isnull=True, reason=reason).order_by("id").first()
    if case is not None:
        return case
    now = timezone.now()
    return Case.objects.create(
        subject_id=subject_id,
        order=order,
        media=media,
        call=call,
        reason=reason,
        source=Case.Source.MANUAL,
        status=Case.Status.IN_REVIEW,
        priority=reason.severity,
        opened_at=now,
        sla_due_at=Case.due_at(now, reason.severity),
        assignee_id=identity.user_id,
    )


# Opening cases one order at a time: two writers filing on the same order join one case.
_CASE_LOCK = 0x6D6F64  # "mod"


@transaction.atomic
def case_open(
    *,
    actor: Identity | str,
    subject_id: int,
    reason_code: str,
    source: str,
    order: Order | None = None,
    dedupe_key: str | None = None,
    details: dict | None = None,
) -> Case:
    """Return the unresolved case of `order` and `source` (or `dedupe_key`), opening one when there is none.

    A case joined with a reason more severe than its priority is raised to it. `actor` is a staff
    identity or a job ("system:<job>", as the owner role).
    """
    reason = _reason(reason_code)
    cases = Case.objects.all()
    if isinstance(actor, Identity):
        cases = policies.CASES.scope(cases, actor)
    if order is not None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_CASE_LOCK, order.pk])
    if dedupe_key is not None:
        case = cases.filter(dedupe_key=dedupe_key).first()
    elif order is not None:
        case = cases.filter(order=order, source=source).exclude(status=Case.Status.RESOLVED).order_by("id").first()
    else:
        case = None
    if case is None:
        now = timezone.now()
        case = Case.objects.create(
            subject_id=subject_id, order=order, reason=reason, source=source, priority=reason.severity,
            opened_at=now, sla_due_at=Case.due_at(now, reason.severity), dedupe_key=dedupe_key, details=details or {},
        )  # fmt: skip
        audit.record(
            action="moderation.case.open",
            actor=actor,
            target=case,
            details={"case_id": case.pk, "reason": reason.code, "source": source, "order_id": case.order_id},
        )
    elif SEVERITY_ORDER.index(reason.severity) > SEVERITY_ORDER.index(case.priority):
        previous = case.priority
        case.priority = reason.severity
        case.sla_due_at = min(case.sla_due_at, timezone.now() + SLA[case.priority])
        case.save(update_fields=["priority", "sla_due_at"])
        audit.record(
            action="moderation.case.raise",
            actor=actor,
            target=case,
            details={"case_id": case.pk, "reason": reason.code, "from": previous, "to": case.priority},
        )
    return case


@transaction.atomic
def target_act(
    *,
    identity: Identity,
    action: str,
    target_type: str,
    target_id: int,
    subject_id: int,
    reason_code: str,
    evidence: list[str],
    source: str,
    order: Order | None = None,
) -> ModerationAction:
    """File `action` on a registered target (moderation/targets.py) on its case; escalate that case when asked.

    An action that decides the target (approve, hide, remove) supersedes the ones still in force on it.
    """
    reason = _reason(reason_code)
    case = case_open(actor=identity, subject_id=subject_id, reason_code=reason.code, source=source, order=order)
    if action == Code.ESCALATE:
        _case_escalate(case)
    else:
        earlier = _actions(identity).filter(target_type=target_type, target_id=target_id).exclude(action=Code.ESCALATE)
        _lift(earlier, identity=identity, reason="superseded")
    return ModerationAction.objects.create(
        actor_id=identity.user_id, action=action, target_type=target_type, target_id=target_id,
        subject_id=subject_id, reason=reason, evidence=evidence, case=case,
    )  # fmt: skip


def _lift(actions, *, identity: Identity | None, reason: str) -> list[int]:
    """Mark the actions in force among `actions` as lifted; return their ids."""
    now = timezone.now()
    ids = list(actions.filter(lifted_at__isnull=True).values_list("id", flat=True))
    actions.filter(pk__in=ids).update(
        lifted_at=now, lifted_by_id=identity.user_id if identity else None, lift_reason=reason
    )
    return ids


def _actions(identity: Identity):
    return policies.ACTIONS.scope(ModerationAction.objects.all(), identity)


# --- users --------------------------------------------------------------------------------------------------------


@transaction.atomic
def user_block(
    *, identity: Identity, user_id: int, reason_code: str, duration: dt.timedelta | None, evidence: list[str]
) -> ModerationAction:
    """Block a user now, for `duration` or indefinitely; their tokens stop working at once."""
    user = USERS.get(User.objects.all(), identity, user_id, missing="No such user.")
    _check_rank(identity, user, "block")
    reason = _reason(reason_code)
    now = timezone.now()
    user.blocked_at = now
    user.blocked_until = now + duration if duration else None
    user.save(update_fields=["blocked_at", "blocked_until"])
    case = _case_for(identity=identity, subject_id=user.pk, reason=reason)
    _lift(_actions(identity).filter(subject=user, action=Code.BLOCK), identity=identity, reason="superseded")
    action = ModerationAction.objects.create(
        actor_id=identity.user_id,
        action=Code.BLOCK,
        target_type=ModerationAction.TargetType.USER,
        target_id=user.pk,
        subject=user,
        reason=reason,
        evidence=evidence,
        duration=duration,
        expires_at=user.blocked_until,
        case=case,
        created_at=now,
    )
    audit.record(
        action="moderation.user.block",
        actor=identity,
        target=user,
        details={
            "action_id": action.pk,
            "case_id": case.pk,
            "reason": reason.code,
            "duration_seconds": int(duration.total_seconds()) if duration else None,
            "evidence": evidence,
        },
    )
    return action


def _clear_block(user: User) -> None:
    user.blocked_at = None
    user.blocked_until = None
    user.save(update_fields=["blocked_at", "blocked_until"])


@transaction.atomic
def user_unblock(*, identity: Identity, user_id: int, reason_code: str, evidence: list[str]) -> ModerationAction:
    """Lift a user's block (admins); raise Conflict when the user is not blocked."""
    user = USERS.get(User.objects.all(), identity, user_id, missing="No such user.")
    _check_rank(identity, user, "unblock")
    reason = _reason(reason_code)
    if not user.is_blocked:
        raise Conflict("This user is not blocked.", status="active")
    _clear_block(user)
    lifted = _lift(_actions(identity).filter(subject=user, action=Code.BLOCK), identity=identity, reason="unblocked")
    case = _case_for(identity=identity, subject_id=user.pk, reason=reason)
    action = ModerationAction.objects.create(
        actor_id=identity.user_id,
        action=Code.UNBLOCK,
        target_type=ModerationAction.TargetType.USER,
        target_id=user.pk,
        subject=user,
        reason=reason,
        evidence=evidence,
        case=case,
    )
    audit.record(
        action="moderation.user.unblock",
        actor=identity,
        target=user,
        details={"action_id": action.pk, "case_id": case.pk, "reason": reason.code, "lifted": lifted},
    )
    return action


@transaction.atomic
def blocks_expire(*, now: dt.datetime | None = None) -> list[int]:
    """Clear the blocks whose time is up (service role); return the users released. Idempotent."""
    now = now or timezone.now()
    expired = User.objects.filter(blocked_at__isnull=False, blocked_until__lte=now).order_by("id")
    released = []
    for user in expired.select_for_update(skip_locked=True):
        _clear_block(user)
        lifted = _lift(
            ModerationAction.objects.filter(subject=user, action=Code.BLOCK), identity=None, reason="expired"
        )
        audit.record(
            action="moderation.user.block_expire", actor=SYSTEM_EXPIRY, target=user, details={"lifted": lifted}
        )
        released.append(user.pk)
    return released


# --- orders ---------------------------------------------------------------------------------------------------------


@transaction.atomic
def order_moderate(
    *, identity: Identity, order_id: int, action: str, reason_code: str, evidence: list[str], subject: str = "client"
) -> tuple[Case, list[ModerationAction]]:
    """Hold, unlist, release an order (through its state machine), remove its media, or escalate its case."""
    order = marketplace_policies.ORDERS.get(Order.objects.all(), identity, order_id, missing="No such order.")
    reason = _reason(reason_code)
    subject_id = order.client_id if subject == "client" else order.reader_id
    if subject_id is None:
        raise ValidationError({"subject": ["This order has no reader."]})
    previous = order.status
    targets: list[tuple[str, int]] = [(ModerationAction.TargetType.ORDER, order.pk)]
    details: dict = {}
    if action in (Code.HOLD, Code.UNLIST, Code.RELEASE):
        order = marketplace_services.order_transition(identity=identity, order_id=order.pk, action=action)
        if action == Code.RELEASE:
            held = _actions(identity).filter(
                target_type="order", target_id=order.pk, action__in=[Code.HOLD, Code.UNLIST]
            )
            details["lifted"] = _lift(held, identity=identity, reason="released")
    elif action == Code.REMOVE_MEDIA:
        media = _media_remove(identity=identity, order=order)
        targets = [(ModerationAction.TargetType.MEDIA, m.pk) for m in media]
        details["media"] = [m.sha256 for m in media]
    case = _case_for(identity=identity, subject_id=subject_id, reason=reason, order=order)
    if action == Code.ESCALATE:
        _case_escalate(case)
    actions = [
        ModerationAction.objects.create(
            actor_id=identity.user_id,
            action=action,
            target_type=target_type,
            target_id=target_id,
            subject_id=subject_id,
            reason=reason,
            evidence=evidence,
            case=case,
        )
        for target_type, target_id in targets
    ]
    audit.record(
        action=f"moderation.order.{action}",
        actor=identity,
        target=order,
        details={
            **details,
            "action_ids": [a.pk for a in actions],
            "case_id": case.pk,
            "reason": reason.code,
            "from": previous,
            "to": order.status,
            "evidence": evidence,
        },
    )
    return case, actions


def _media_remove(*, identity: Identity, order: Order) -> list[MediaAsset]:
    media = list(
        marketplace_policies.MEDIA.scope(MediaAsset.objects.all(), identity)
        .filter(order=order, removed_at__isnull=True)
        .order_by("id")
    )
    if not media:
        raise Conflict("This order has no media to remove.", status=order.status)
    now = timezone.now()
    for asset in media:
        asset.removed_at = now
        asset.save(update_fields=["removed_at"])
        # The stored bytes go once the removal is committed; the row keeps sha256 and size as lineage.
        transaction.on_commit(lambda key=asset.storage_key: default_storage.delete(key))
    return media


def _case_escalate(case: Case) -> None:
    if case.status == Case.Status.ESCALATED:
        raise Conflict("This case is already escalated.", status=case.status)
    level = min(SEVERITY_ORDER.index(case.priority) + 1, len(SEVERITY_ORDER) - 1)
    case.priority = SEVERITY_ORDER[level]
    case.sla_due_at = min(case.sla_due_at, timezone.now() + SLA[case.priority])
    case.status = Case.Status.ESCALATED
    case.team = Case.Team.ADMINS
    case.assignee = None
    case.save(update_fields=["priority", "sla_due_at", "status", "team", "assignee"])


# --- cases ----------------------------------------------------------------------------------------------------------


@transaction.atomic
def case_assign(*, identity: Identity, case_ids: list[int], assignee_id: int) -> int:
    """Assign unresolved cases to a staff member; return how many changed."""
    cases = policies.CASES.scope(Case.objects.all(), identity).filter(pk__in=case_ids).exclude(status="resolved")
    changed = 0
    for case in cases.select_for_update(of=("self",)):
        case.assignee_id = assignee_id
        if case.status == Case.Status.OPEN:
            case.status = Case.Status.IN_REVIEW
        case.save(update_fields=["assignee", "status"])
        audit.record(action="moderation.case.assign", actor=identity, target=case, details={"assignee_id": assignee_id})
        changed += 1
    return changed


@transaction.atomic
def case_resolve(*, identity: Identity, case_id: int, note: str) -> Case:
    """Resolve a case with a note; raise Conflict when it is already resolved."""
    case = policies.CASES.get(Case.objects.select_for_update(of=("self",)), identity, case_id, missing="No such case.")
    if case.status == Case.Status.RESOLVED:
        raise Conflict("This case is already resolved.", status=case.status)
    if not note.strip():
        raise ValidationError({"note": ["Say why the case is resolved."]})
    case.status = Case.Status.RESOLVED
    case.resolution_note = note.strip()
    case.resolved_at = timezone.now()
    case.resolved_by_id = identity.user_id
    case.save(update_fields=["status", "resolution_note", "resolved_at", "resolved_by"])
    audit.record(action="moderation.case.resolve", actor=identity, target=case, details={})
    return case


# --- jobs -----------------------------------------------------------------------------------------------------------

SYSTEM_AUDIT_VERIFY = "system:moderation.verify_audit"
AUDIT_SCOPE = "audit:chain"


@transaction.atomic
def audit_chain_check(*, day: dt.date | None = None) -> Case | None:
    """Verify the audit chain; when it is damaged, open one critical case per day and audit the finding."""
    report = audit_selectors.chain_verify()
    if report.ok:
        return None
    now = timezone.now()
    day = day or now.astimezone(dt.UTC).date()
    reason = ReasonCode.objects.get(code="audit_tamper")
    damage = report.damage
    case, created = Case.objects.get_or_create(
        dedupe_key=f"audit_tamper:{AUDIT_SCOPE}:{day.isoformat()}",
        defaults={
            "scope": AUDIT_SCOPE,
            "reason": reason,
            "source": Case.Source.SWEEP,
            "priority": reason.severity,
            "team": Case.Team.ADMINS,
            "opened_at": now,
            "sla_due_at": Case.due_at(now, reason.severity),
            "details": {"seq": damage.seq, "kind": damage.kind, "detail": damage.detail, "rows_checked": report.rows},
        },
    )
    if created:
        audit.record(
            action="moderation.audit.tamper_detected",
            actor=SYSTEM_AUDIT_VERIFY,
            target=case,
            details={"case_id": case.pk, "seq": damage.seq, "kind": damage.kind, "reason": reason.code},
        )
    return case
