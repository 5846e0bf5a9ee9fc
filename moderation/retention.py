"""Retention of moderation records: fixed windows, purged by a scheduled job.

A case goes, with its actions, appeals and lineage, once all of it is past its window:
the case resolved, every action lifted or expired, and every appeal decided, longer ago
than the window. The audit trail keeps what happened (under its own retention).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from moderation.models import Appeal, Case, LineageEdge, ModerationAction
from samia import audit


def windows() -> tuple[dt.timedelta, dt.timedelta]:
    """(moderation window, appeals window), from MODERATION_RETENTION_DAYS and APPEALS_RETENTION_DAYS."""
    return (
        dt.timedelta(days=settings.MODERATION_RETENTION_DAYS),
        dt.timedelta(days=settings.APPEALS_RETENTION_DAYS),
    )


@transaction.atomic
def retention_purge(*, now: dt.datetime | None = None) -> dict:
    """Delete the cases (with their actions, appeals and lineage) that are wholly past their windows."""
    now = now or timezone.now()
    moderation_window, appeals_window = windows()
    cases_cutoff, appeals_cutoff = now - moderation_window, now - appeals_window
    live_action = ModerationAction.objects.filter(case=OuterRef("pk")).filter(
        Q(lifted_at__isnull=True, expires_at__isnull=True)
        | Q(lifted_at__gte=cases_cutoff)
        | Q(lifted_at__isnull=True, expires_at__gte=cases_cutoff)
    )
    live_appeal = Appeal.objects.filter(action__case=OuterRef("pk")).filter(
        Q(decided_at__isnull=True) | Q(decided_at__gte=appeals_cutoff)
    )
    expired = (
        Case.objects.filter(status=Case.Status.RESOLVED, resolved_at__lt=cases_cutoff)
        .exclude(Exists(live_action))
        .exclude(Exists(live_appeal))
    )
    case_ids = list(expired.values_list("pk", flat=True))
    if not case_ids:
        return {"cases": 0, "actions": 0, "appeals": 0, "lineage_edges": 0}
    counts = {
        "lineage_edges": LineageEdge.objects.filter(case_id__in=case_ids).delete()[0],
        "appeals": Appeal.objects.filter(action__case_id__in=case_ids).delete()[0],
        "actions": ModerationAction.objects.filter(case_id__in=case_ids).delete()[0],
        "cases": Case.objects.filter(pk__in=case_ids).delete()[0],
    }
    audit.record(
        action="moderation.retention.purge",
        actor="system:moderation_retention",
        details={**counts, "cutoff": cases_cutoff.date().isoformat()},
    )
    return counts
