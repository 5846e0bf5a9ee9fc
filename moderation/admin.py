import datetime as dt

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from moderation import services, tasks
from moderation.models import Appeal, Case, LineageEdge, ModerationAction, ReasonCode, SweepRule
from moderation.policies import ACTIONS_TABLE
from samia.accounts.admin import UserAdmin
from samia.accounts.models import User
from samia.exceptions import Conflict
from samia.rls.access import InsertsRow
from samia.rls.admin import DeclaredModelAdmin
from samia.rls.registry import Identity


@admin.register(ReasonCode)
class ReasonCodeAdmin(DeclaredModelAdmin):
    list_display = ["code", "label", "severity", "is_active"]
    list_filter = ["severity", "is_active"]
    list_editable = ["label", "severity", "is_active"]
    search_fields = ["code", "label"]


@admin.action(description="Run the selected sweeps now", permissions=["change"])
def sweeps_run_now(modeladmin, request, queryset):
    rules = list(queryset.filter(is_active=True).values_list("rule", flat=True))
    if not rules:
        modeladmin.message_user(request, "Select at least one active rule.", messages.ERROR)
        return
    # The sweep runs as the service role in a worker (like the nightly one), once this request commits.
    transaction.on_commit(lambda: tasks.run_sweeps.delay(rules=rules))
    modeladmin.message_user(request, f"Sweeps queued: {', '.join(rules)}. New cases appear in the queue.")


@admin.register(SweepRule)
class SweepRuleAdmin(DeclaredModelAdmin):
    list_display = ["rule", "is_active", "window_hours", "min_count", "max_rate", "reason", "severity"]
    list_editable = ["is_active", "window_hours", "min_count", "max_rate", "reason", "severity"]
    list_filter = ["is_active", "severity"]
    actions = [sweeps_run_now]


class CaseActionForm(ActionForm):
    note = forms.CharField(required=False, max_length=2000, help_text="Resolution note (required to resolve).")


class SlaFilter(admin.SimpleListFilter):
    title = "SLA"
    parameter_name = "sla"

    def lookups(self, request, model_admin):
        return [("overdue", "Overdue"), ("due_soon", "Due within 2 hours")]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "overdue":
            return queryset.filter(sla_due_at__lt=now).exclude(status=Case.Status.RESOLVED)
        if self.value() == "due_soon":
            return queryset.filter(sla_due_at__gte=now, sla_due_at__lt=now + timezone.timedelta(hours=2))
        return queryset


@admin.action(description="Assign selected cases to me", permissions=["change"])
def case_assign_to_me(modeladmin, request, queryset):
    changed = services.case_assign(
        identity=Identity.of(request.user),
        case_ids=list(queryset.values_list("id", flat=True)),
        assignee_id=request.user.pk,
    )
    modeladmin.message_user(request, f"{changed} case(s) assigned to you.")


@admin.action(description="Resolve selected cases (with the note)", permissions=["change"])
def case_resolve(modeladmin, request, queryset):
    note = request.POST.get("note", "")
    if not note.strip():
        modeladmin.message_user(request, "Write a resolution note first.", messages.ERROR)
        return
    done = 0
    for case_id in queryset.exclude(status=Case.Status.RESOLVED).values_list("id", flat=True):
        services.case_resolve(identity=Identity.of(request.user), case_id=case_id, note=note)
        done += 1
    modeladmin.message_user(request, f"{done} case(s) resolved.")


class ActionInline(admin.TabularInline):
    model = ModerationAction
    fields = ["id", "action", "target_type", "target_id", "reason", "actor", "created_at", "expires_at", "lifted_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


class LineageInline(admin.TabularInline):
    model = LineageEdge
    fields = ["from_type", "from_id", "to_type", "to_id"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Case)
class CaseAdmin(DeclaredModelAdmin):
    list_display = [
        "id",
        "status",
        "priority",
        "sla_due_at",
        "team",
        "reason",
        "source",
        "subject_id",
        "scope",
        "assignee",
    ]
    list_filter = ["status", SlaFilter, "priority", "team", "source", "reason"]
    search_fields = ["=id", "=subject__id", "=order__id"]
    ordering = ["sla_due_at", "id"]
    list_select_related = ["reason", "assignee"]
    raw_id_fields = ["subject", "order", "media", "call", "assignee"]
    readonly_fields = ["opened_at", "resolved_at", "resolved_by", "dedupe_key", "scope", "details"]
    action_form = CaseActionForm
    actions = [case_assign_to_me, case_resolve]
    inlines = [ActionInline, LineageInline]


@admin.register(ModerationAction)
class ModerationActionAdmin(DeclaredModelAdmin):
    list_display = ["id", "action", "target_type", "target_id", "subject_id", "reason", "actor", "created_at"]
    list_filter = ["action", "target_type", "reason", "lift_reason"]
    search_fields = ["=id", "=subject__id", "=target_id"]
    ordering = ["-id"]
    list_select_related = ["reason", "actor"]
    raw_id_fields = ["actor", "subject", "case", "lifted_by"]
    # Actions are taken through the API services (they change users and orders); here they are read.
    readonly_fields = [f.name for f in ModerationAction._meta.fields]


@admin.register(Appeal)
class AppealAdmin(DeclaredModelAdmin):
    list_display = ["id", "status", "decision", "action", "subject_id", "opened_at", "decided_at", "decided_by"]
    list_filter = ["status", "decision"]
    search_fields = ["=id", "=subject__id", "=action__id"]
    ordering = ["status", "opened_at"]
    raw_id_fields = ["action", "subject", "opened_by", "decided_by"]
    # Decisions go through POST /monitor/appeals/<id>/resolve, which lifts what an overturn lifts.
    readonly_fields = [f.name for f in Appeal._meta.fields]


# --- users: block and unblock are moderation actions, taken through its services ---------------------------------


class UserModerationInput(forms.Form):
    reason = forms.ModelChoiceField(
        queryset=ReasonCode.objects.filter(is_active=True), to_field_name="code", required=False
    )
    days = forms.IntegerField(
        required=False, min_value=1, max_value=services.MAX_DURATION.days, help_text="Empty: indefinite block."
    )


class UserActionForm(UserModerationInput, ActionForm):
    pass


def _moderate_users(modeladmin, request, queryset, verb: str, act) -> None:
    form = UserModerationInput(request.POST)
    if not form.is_valid() or form.cleaned_data["reason"] is None:
        modeladmin.message_user(request, f"Choose a reason (and a valid number of days) to {verb}.", messages.ERROR)
        return
    done, refused = 0, []
    for user_id in queryset.values_list("id", flat=True):
        try:
            # One savepoint per user: a refusal leaves the others' actions standing.
            with transaction.atomic():
                act(user_id, form.cleaned_data)
            done += 1
        except ValidationError as refusal:
            refused.append(f"#{user_id}: {' '.join(refusal.messages)}")
        except (PermissionDenied, Conflict, User.DoesNotExist) as refusal:
            refused.append(f"#{user_id}: {refusal}")
    if done:
        modeladmin.message_user(request, f"{done} user(s) {verb}ed; each has a moderation action and a case.")
    if refused:
        modeladmin.message_user(request, f"Not {verb}ed: {'; '.join(refused)}", messages.ERROR)


@admin.action(description="Block selected users (reason, days)", permissions=["block"])
def users_block(modeladmin, request, queryset):
    def act(user_id, data):
        days = data["days"]
        services.user_block(
            identity=Identity.of(request.user),
            user_id=user_id,
            reason_code=data["reason"].code,
            duration=dt.timedelta(days=days) if days else None,
            evidence=[],
        )

    _moderate_users(modeladmin, request, queryset, "block", act)


@admin.action(description="Unblock selected users (reason)", permissions=["unblock"])
def users_unblock(modeladmin, request, queryset):
    def act(user_id, data):
        services.user_unblock(
            identity=Identity.of(request.user), user_id=user_id, reason_code=data["reason"].code, evidence=[]
        )

    _moderate_users(modeladmin, request, queryset, "unblock", act)


admin.site.unregister(User)


@admin.register(User)
class ModeratedUserAdmin(UserAdmin):
    """The accounts' admin with moderation's block and unblock actions (the kernel does not import moderation)."""

    action_form = UserActionForm
    actions = [users_block, users_unblock]

    def _may_insert_action(self, request, code: str) -> bool:
        return (
            request.user.is_active
            and Identity.of(request.user).persona in InsertsRow(ACTIONS_TABLE, "action", code).roles()
        )

    def has_block_permission(self, request):
        return self._may_insert_action(request, ModerationAction.Code.BLOCK)

    def has_unblock_permission(self, request):
        return self._may_insert_action(request, ModerationAction.Code.UNBLOCK)
