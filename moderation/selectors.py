"""Moderation reads, scoped by the same declarations that Postgres enforces."""

from django.db.models import QuerySet

from moderation import policies
from moderation.models import Appeal, Case, ModerationAction, ReasonCode
from samia.rls.registry import Identity

QUEUE_STATUSES = (Case.Status.OPEN, Case.Status.IN_REVIEW, Case.Status.ESCALATED)


def case_queue(
    *,
    identity: Identity,
    status: str | None = None,
    reason: str | None = None,
    source: str | None = None,
    team: str | None = None,
    assignee_id: int | None = None,
    subject_id: int | None = None,
) -> QuerySet[Case]:
    """Return the unresolved cases `identity` may see, oldest due first."""
    cases = policies.CASES.scope(Case.objects.all(), identity).filter(status__in=QUEUE_STATUSES)
    filters = {
        "status": status,
        "reason__code": reason,
        "source": source,
        "team": team,
        "assignee_id": assignee_id,
        "subject_id": subject_id,
    }
    cases = cases.filter(**{k: v for k, v in filters.items() if v is not None})
    return cases.select_related("reason").order_by("sla_due_at", "id")


def appeal_get(*, identity: Identity, appeal_id: int) -> Appeal:
    """Return the appeal `identity` may see (its subject, staff), with its action and any replacement."""
    appeals = Appeal.objects.select_related("action__reason", "replacement__reason")
    return policies.APPEALS.get(appeals, identity, appeal_id, missing="No such appeal.")


def block_in_force(*, identity: Identity) -> dict:
    """Return the block `identity` is under as they may see it: its action id, expiry and whether they may appeal it."""
    action = (
        policies.ACTIONS.scope(ModerationAction.objects.all(), identity)
        .filter(subject_id=identity.user_id, action=ModerationAction.Code.BLOCK, lifted_at__isnull=True)
        .order_by("-id")
        .first()
    )
    if action is None:
        return {"action_id": None, "appealable": False}
    appeal = policies.APPEALS.scope(Appeal.objects.all(), identity).filter(action=action).first()
    return {
        "action_id": action.pk,
        "expires_at": action.expires_at.isoformat() if action.expires_at else None,
        "appealable": appeal is None and action.is_in_force,
        "appeal_id": appeal.pk if appeal else None,
    }


def reason_get(*, identity: Identity, code: str) -> ReasonCode:
    """Return the active reason `code` that `identity` may read, or raise ReasonCode.DoesNotExist."""
    reasons = policies.REASONS.scope(ReasonCode.objects.filter(is_active=True), identity)
    return reasons.get(code=code)


def reason_list(*, identity: Identity) -> QuerySet[ReasonCode]:
    """Return the active reasons `identity` may read, by code."""
    return policies.REASONS.scope(ReasonCode.objects.filter(is_active=True), identity).order_by("code")
