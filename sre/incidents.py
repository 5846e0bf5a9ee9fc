"""Incidents: declare (page tier 1), escalate when unacknowledged, acknowledge, resolve, post-mortem.

An incident's title is free text: it stays in its row and never goes into the audit trail, a log,
an event or a page (pages say severity, component and id).
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from samia import audit, staff_notices
from samia.exceptions import Conflict
from samia.rls.registry import Identity
from sre.models import EscalationStep, Incident, OnCallShift, PostMortem, Runbook
from sre.policies import INCIDENTS, RUNBOOKS

JOB = "system:sre.escalate"


def oncall_users(*, tier: int, now: dt.datetime) -> list[int]:
    """Return who is on call for `tier` at `now`."""
    shifts = OnCallShift.objects.filter(tier=tier, starts_at__lte=now, ends_at__gt=now)
    return sorted(set(shifts.values_list("user_id", flat=True)))


def _page(incident: Incident, *, tier: int, now: dt.datetime, actor: Identity | str) -> list[int]:
    users = oncall_users(tier=tier, now=now)
    staff_notices.staff_notify(
        user_ids=users,
        kind="sre.incident_page",
        title=f"{incident.severity.upper()} incident #{incident.pk}: {incident.component}",
        body=f"Tier {tier} page. Acknowledge incident #{incident.pk} in the back office.",
        actor=actor,
        critical=True,
        dedupe=f"sre.page:{incident.pk}:{tier}",
    )
    incident.tier, incident.paged_at = tier, now
    return users


@transaction.atomic
def incident_declare(
    *, identity: Identity, severity: str, component: str, title: str, runbook: str | None = None
) -> Incident:
    """Declare an incident and page the tier-1 on-call person; 409 while the component has an open one."""
    runbook_row = None
    if runbook:
        runbook_row = RUNBOOKS.scope(Runbook.objects.filter(slug=runbook), identity).first()
        if runbook_row is None:
            raise ValidationError({"runbook": ["No such runbook."]})
    open_incident = Incident.objects.filter(component=component).exclude(status=Incident.Status.RESOLVED).first()
    if open_incident:
        raise Conflict(
            "The component already has an open incident.", incident_id=open_incident.pk, status=open_incident.status
        )
    now = timezone.now()
    try:
        with transaction.atomic():
            incident = Incident.objects.create(
                severity=severity,
                component=component,
                title=title,
                runbook=runbook_row,
                declared_by_id=identity.user_id,
                declared_at=now,
            )
    except IntegrityError:  # declared at the same moment by someone else
        other = Incident.objects.filter(component=component).exclude(status=Incident.Status.RESOLVED).first()
        raise Conflict("The component already has an open incident.", incident_id=other.pk if other else None) from None
    paged = _page(incident, tier=1, now=now, actor=identity)
    incident.save(update_fields=["tier", "paged_at"])
    audit.record(
        action="sre.incident.declare",
        actor=identity,
        target=incident,
        details={"severity": severity, "component": component, "paged": len(paged)},
    )
    return incident


@transaction.atomic
def incidents_escalate(*, now: dt.datetime | None = None) -> int:
    """Page the next tier of every declared, unacknowledged incident whose step is due; return how many moved."""
    now = now or timezone.now()
    moved = 0
    incidents = Incident.objects.select_for_update(skip_locked=True).filter(status=Incident.Status.DECLARED)
    for incident in incidents:
        due = EscalationStep.objects.filter(
            severity=incident.severity,
            tier__gt=incident.tier,
            after_minutes__lte=(now - incident.declared_at).total_seconds() // 60,
        ).order_by("-tier")
        step = due.first()
        if step is None:
            continue
        paged = _page(incident, tier=step.tier, now=now, actor=JOB)
        incident.save(update_fields=["tier", "paged_at"])
        audit.record(
            action="sre.incident.escalate",
            actor=JOB,
            target=incident,
            details={"tier": step.tier, "after_minutes": step.after_minutes, "paged": len(paged)},
        )
        moved += 1
    return moved


def _move(identity: Identity, incident_id: int, *, sources: tuple[str, ...], target: str) -> Incident:
    incident = INCIDENTS.get(Incident.objects.select_for_update(), identity, incident_id, operation="update")
    if incident.status not in sources:
        raise Conflict(f"The incident is {incident.status}.", status=incident.status)
    incident.status = target
    return incident


@transaction.atomic
def incident_acknowledge(*, identity: Identity, incident_id: int) -> Incident:
    """Acknowledge a declared incident: escalation stops."""
    incident = _move(identity, incident_id, sources=(Incident.Status.DECLARED,), target=Incident.Status.ACKNOWLEDGED)
    incident.acknowledged_at, incident.acknowledged_by_id = timezone.now(), identity.user_id
    incident.save(update_fields=["status", "acknowledged_at", "acknowledged_by"])
    audit.record(action="sre.incident.acknowledge", actor=identity, target=incident, details={"tier": incident.tier})
    return incident


@transaction.atomic
def incident_mitigate(*, identity: Identity, incident_id: int) -> Incident:
    """Mark an acknowledged incident mitigated (the impact stopped; the cause may remain)."""
    incident = _move(identity, incident_id, sources=(Incident.Status.ACKNOWLEDGED,), target=Incident.Status.MITIGATED)
    incident.mitigated_at = timezone.now()
    incident.save(update_fields=["status", "mitigated_at"])
    audit.record(action="sre.incident.mitigate", actor=identity, target=incident)
    return incident


@transaction.atomic
def incident_resolve(*, identity: Identity, incident_id: int) -> Incident:
    """Resolve an acknowledged or mitigated incident; the component may have a new one."""
    incident = _move(
        identity,
        incident_id,
        sources=(Incident.Status.ACKNOWLEDGED, Incident.Status.MITIGATED),
        target=Incident.Status.RESOLVED,
    )
    incident.resolved_at, incident.resolved_by_id = timezone.now(), identity.user_id
    incident.save(update_fields=["status", "resolved_at", "resolved_by"])
    audit.record(action="sre.incident.resolve", actor=identity, target=incident)
    return incident


@transaction.atomic
def postmortem_write(
    *, identity: Identity, incident_id: int, summary: str, root_cause: str, actions: str
) -> PostMortem:
    """Write the post-mortem of a resolved incident (once; later edits go through the back office)."""
    incident = INCIDENTS.get(Incident.objects.all(), identity, incident_id)
    if incident.status != Incident.Status.RESOLVED:
        raise Conflict("Only a resolved incident has a post-mortem.", status=incident.status)
    if PostMortem.objects.filter(incident=incident).exists():
        raise Conflict("The incident already has a post-mortem.", status=incident.status)
    postmortem = PostMortem.objects.create(
        incident=incident, summary=summary, root_cause=root_cause, actions=actions, written_by_id=identity.user_id
    )
    audit.record(
        action="sre.postmortem.write", actor=identity, target=incident, details={"postmortem_id": postmortem.pk}
    )
    return postmortem


def runbook_list(*, identity: Identity):
    """Return the runbooks `identity` may read."""
    return RUNBOOKS.scope(Runbook.objects.all(), identity)


def runbook_get(*, identity: Identity, slug: str) -> Runbook:
    """Return one runbook by slug, or raise Runbook.DoesNotExist."""
    runbook = RUNBOOKS.scope(Runbook.objects.filter(slug=slug), identity).first()
    if runbook is None:
        raise Runbook.DoesNotExist("No such runbook.")
    return runbook


@transaction.atomic
def postmortem_change(*, identity: Identity, postmortem: PostMortem) -> PostMortem:
    """Save an admin's edit of a post-mortem; audited."""
    postmortem.save()
    audit.record(
        action="sre.postmortem.change",
        actor=identity,
        target=postmortem.incident,
        details={"postmortem_id": postmortem.pk},
    )
    return postmortem
