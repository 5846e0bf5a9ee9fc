"""Moderation reads, scoped by the same declarations that Postgres enforces."""

from django.db.models import QuerySet

from moderation import policies
from moderation.models import Case
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
