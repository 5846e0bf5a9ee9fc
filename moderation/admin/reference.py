"""Reason codes and sweep rules: the moderation vocabulary and thresholds admins tune."""

from django.contrib import admin, messages
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from moderation import tasks
from moderation.models import ReasonCode, SweepRule
from samia.rls.admin import DeclaredModelAdmin


@admin.register(ReasonCode)
class ReasonCodeAdmin(DeclaredModelAdmin):
    # The label in each language (modeltranslation columns; I18N_README.md), English required.
    fields = ["code", "label_en", "label_ar", "severity", "is_active"]
    list_display = ["code", "label_en", "label_ar", "severity", "is_active"]
    list_filter = ["severity", "is_active"]
    list_editable = ["label_en", "label_ar", "severity", "is_active"]
    search_fields = ["code", "label_en", "label_ar"]


@admin.action(description=gettext_lazy("Run the selected sweeps now"), permissions=["change"])
def sweeps_run_now(modeladmin, request, queryset):
    rules = list(queryset.filter(is_active=True).values_list("rule", flat=True))
    if not rules:
        modeladmin.message_user(request, _("Select at least one active rule."), messages.ERROR)
        return
    # The sweep runs as the service role in a worker (like the nightly one), once this request commits.
    transaction.on_commit(lambda: tasks.run_sweeps.delay(rules=rules))
    message = _("Sweeps queued: %(rules)s. New cases appear in the queue.") % {"rules": ", ".join(rules)}
    modeladmin.message_user(request, message)


@admin.register(SweepRule)
class SweepRuleAdmin(DeclaredModelAdmin):
    list_display = ["rule", "is_active", "window_hours", "min_count", "max_rate", "reason", "severity"]
    list_editable = ["is_active", "window_hours", "min_count", "max_rate", "reason", "severity"]
    list_filter = ["is_active", "severity"]
    actions = [sweeps_run_now]
