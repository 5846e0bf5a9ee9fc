"""The SRE back office: budgets, on-call and escalation, runbooks, incidents (acknowledge, mitigate,
resolve, post-mortem: each through its audited service), backups and drills (read-only)."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from samia.rls.admin import DeclaredModelAdmin, ReadOnlyAdmin, run_action
from samia.rls.registry import Identity
from sre import budgets, incidents
from sre.models import (
    Backup,
    Budget,
    BudgetAlert,
    BudgetUsage,
    EscalationStep,
    Incident,
    OnCallShift,
    PostMortem,
    RestoreDrill,
    Runbook,
)


@admin.register(Budget)
class BudgetAdmin(DeclaredModelAdmin):
    list_display = ["metric", "monthly_limit", "unit_cost", "currency", "thresholds", "updated_at"]
    fields = ["metric", "monthly_limit", "unit_cost", "currency", "thresholds"]

    def get_readonly_fields(self, request, obj=None):
        return ["metric"] if obj else []

    def save_model(self, request, obj, form, change):
        budgets.budget_change(identity=Identity.of(request.user), budget=obj, changed=list(form.changed_data))


@admin.register(BudgetUsage)
class BudgetUsageAdmin(ReadOnlyAdmin):
    list_display = ["id", "budget_id", "month", "actual", "forecast", "evaluated_at"]
    list_filter = ["month"]


@admin.register(BudgetAlert)
class BudgetAlertAdmin(ReadOnlyAdmin):
    list_display = ["id", "budget_id", "month", "kind", "threshold", "percent", "created_at"]
    list_filter = ["kind", "month"]


@admin.register(OnCallShift)
class OnCallShiftAdmin(DeclaredModelAdmin):
    list_display = ["id", "tier", "user_id", "starts_at", "ends_at"]
    list_filter = ["tier"]
    raw_id_fields = ["user"]


@admin.register(EscalationStep)
class EscalationStepAdmin(DeclaredModelAdmin):
    list_display = ["severity", "tier", "after_minutes"]


@admin.register(Runbook)
class RunbookAdmin(DeclaredModelAdmin):
    list_display = ["slug", "component", "title", "updated_at"]
    list_filter = ["component"]
    search_fields = ["slug"]


def _incident_action(service):
    def action(modeladmin, request, queryset):
        identity = Identity.of(request.user)
        run_action(request, queryset, lambda incident: service(identity=identity, incident_id=incident.pk))

    return action


@admin.register(Incident)
class IncidentAdmin(DeclaredModelAdmin):
    list_display = ["id", "severity", "status", "component", "tier", "declared_at", "acknowledged_at", "resolved_at"]
    list_filter = ["status", "severity", "component"]
    fields = ["severity", "component", "title", "runbook"]
    actions = ["acknowledge", "mitigate", "resolve"]

    def get_fields(self, request, obj=None):
        return self.fields if obj is None else [*self.fields, *self.CHANGE_FIELDS]

    CHANGE_FIELDS = [
        "status",
        "declared_by",
        "declared_at",
        "tier",
        "paged_at",
        "acknowledged_at",
        "acknowledged_by",
        "mitigated_at",
        "resolved_at",
        "resolved_by",
    ]

    def get_readonly_fields(self, request, obj=None):
        # A declared incident changes through the actions only, each its audited service.
        return [] if obj is None else [*self.fields, *self.CHANGE_FIELDS]

    def save_model(self, request, obj, form, change):
        if change:
            return
        declared = incidents.incident_declare(
            identity=Identity.of(request.user),
            severity=obj.severity,
            component=obj.component,
            title=obj.title,
            runbook=obj.runbook.slug if obj.runbook else None,
        )
        obj.pk = declared.pk

    @admin.action(description=_("Acknowledge the selected incidents"), permissions=["change"])
    def acknowledge(self, request, queryset):
        _incident_action(incidents.incident_acknowledge)(self, request, queryset)

    @admin.action(description=_("Mark the selected incidents mitigated"), permissions=["change"])
    def mitigate(self, request, queryset):
        _incident_action(incidents.incident_mitigate)(self, request, queryset)

    @admin.action(description=_("Resolve the selected incidents"), permissions=["change"])
    def resolve(self, request, queryset):
        _incident_action(incidents.incident_resolve)(self, request, queryset)


@admin.register(PostMortem)
class PostMortemAdmin(DeclaredModelAdmin):
    list_display = ["id", "incident_id", "created_at"]
    fields = ["incident", "summary", "root_cause", "actions"]
    raw_id_fields = ["incident"]

    def get_readonly_fields(self, request, obj=None):
        return ["incident"] if obj else []

    def save_model(self, request, obj, form, change):
        identity = Identity.of(request.user)
        if change:
            incidents.postmortem_change(identity=identity, postmortem=obj)
        else:
            written = incidents.postmortem_write(
                identity=identity,
                incident_id=obj.incident_id,
                summary=obj.summary,
                root_cause=obj.root_cause,
                actions=obj.actions,
            )
            obj.pk = written.pk


@admin.register(Backup)
class BackupAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "file_name", "size_bytes", "finished_at", "removed_at"]
    list_filter = ["kind"]


@admin.register(RestoreDrill)
class RestoreDrillAdmin(ReadOnlyAdmin):
    list_display = ["id", "backup_id", "result", "duration_seconds", "started_at"]
    list_filter = ["result"]
