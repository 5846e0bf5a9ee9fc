"""The case queue and the case page: every change goes through moderation.services, offered as the guards allow."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import admin, messages
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from moderation import lineage, services, targets
from moderation.admin.common import Offer, ReasonInput, attempt, bound_forms, subject_history, user_text
from moderation.models import Case, LineageEdge, ModerationAction
from moderation.policies import ACTIONS_TABLE, CASES_TABLE, LINEAGE, LINEAGE_TABLE
from samia.backoffice_timezone import time_column
from samia.marketplace import selectors as marketplace_selectors
from samia.marketplace.policies import ORDER_TABLE
from samia.rls.access import InsertsRow, StateChange, writes
from samia.rls.admin import DeclaredModelAdmin, run_action
from samia.rls.registry import Identity

Code = ModerationAction.Code
UNRESOLVED = (Case.Status.OPEN, Case.Status.IN_REVIEW, Case.Status.ESCALATED)
# The API guards' objects (moderation/apis.py): the same declarations decide who is offered what here.
ASSIGN = writes(CASES_TABLE, "update")
LINEAGE_REBUILD = writes(LINEAGE_TABLE, "insert")


def inserts_action(code: str) -> InsertsRow:
    return InsertsRow(ACTIONS_TABLE, "action", code)


class BlockInput(ReasonInput):
    days = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=services.MAX_DURATION.days,
        label=_("Days"),
        help_text=_("Empty: until lifted."),
    )


class ResolveInput(forms.Form):
    note = forms.CharField(label=_("Note"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3, "dir": "auto"}))


class SlaFilter(admin.SimpleListFilter):
    title = _("SLA")
    parameter_name = "sla"

    def lookups(self, request, model_admin):
        return [("overdue", _("Overdue")), ("due_soon", _("Due within 2 hours"))]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "overdue":
            return queryset.filter(sla_due_at__lt=now).exclude(status=Case.Status.RESOLVED)
        if self.value() == "due_soon":
            return queryset.filter(sla_due_at__gte=now, sla_due_at__lt=now + dt.timedelta(hours=2))
        return queryset


@admin.action(description=_("Assign selected cases to me"), permissions=["change"])
def case_assign_to_me(modeladmin, request, queryset):
    identity = Identity.of(request.user)
    run_action(
        request,
        queryset.filter(status__in=UNRESOLVED),
        lambda case: services.case_assign(identity=identity, case_ids=[case.pk], assignee_id=identity.user_id),
    )


@admin.action(description=_("Resolve selected cases (with the note)"), permissions=["change"])
def case_resolve(modeladmin, request, queryset):
    note = request.POST.get("note", "")
    if not note.strip():
        modeladmin.message_user(request, _("Write a resolution note first."), messages.ERROR)
        return
    identity = Identity.of(request.user)
    run_action(request, queryset, lambda case: services.case_resolve(identity=identity, case_id=case.pk, note=note))


class CaseActionForm(admin.helpers.ActionForm):
    note = forms.CharField(required=False, max_length=2000, help_text=_("Resolution note (required to resolve)."))


def case_offers(identity: Identity, case: Case, order, subject) -> list[Offer]:
    """The buttons of a case page, each with the access objects that guard the same change in the API."""
    unresolved = case.status in UNRESOLVED
    reason = {"reason": case.reason.code}
    offers = [
        Offer("assign", _("Assign to me"), (ASSIGN,), state=unresolved and case.assignee_id != identity.user_id),
        Offer("block", _("Block the subject"), (inserts_action(Code.BLOCK),), BlockInput, initial=reason,
              state=unresolved and subject is not None and not subject.is_blocked),
        Offer("unblock", _("Lift the subject's block"), (inserts_action(Code.UNBLOCK),), ReasonInput, initial=reason,
              state=subject is not None and subject.is_blocked),
    ]  # fmt: skip
    if order is not None:
        # The order's own state machine decides which moves exist from where it is now.
        moves = {Code.HOLD: "on_hold", Code.UNLIST: "unlisted", Code.RELEASE: order.held_from}
        labels = {
            Code.HOLD: _("Hold the order"),
            Code.UNLIST: _("Unlist the order"),
            Code.RELEASE: _("Release the order"),
        }
        offers += [
            Offer(code, labels[code], (inserts_action(code), StateChange(ORDER_TABLE, "status", (order.status,), target)),
                  ReasonInput, initial=reason, state=unresolved and bool(target))
            for code, target in moves.items()
        ]  # fmt: skip
        offers.append(
            Offer("escalate", _("Escalate to admins"),
                  (inserts_action(Code.ESCALATE), StateChange(CASES_TABLE, "status", (case.status,), "escalated")),
                  ReasonInput, initial=reason, state=unresolved and case.status != Case.Status.ESCALATED)
        )  # fmt: skip
    offers += [
        Offer("lineage", _("Rebuild the evidence graph"), (LINEAGE_REBUILD,), state=bool(order or case.media_id)),
        Offer("resolve", _("Resolve with a note"), (StateChange(CASES_TABLE, "status", (case.status,), "resolved"),),
              ResolveInput, state=unresolved),
    ]  # fmt: skip
    return offers


def _take(identity: Identity, case: Case, order, name: str, data: dict):
    """Call the service behind button `name`; return what to tell the person."""
    evidence = [f"case:{case.pk}"]
    if name == "assign":
        services.case_assign(identity=identity, case_ids=[case.pk], assignee_id=identity.user_id)
        return _("The case is assigned to you.")
    if name == "resolve":
        services.case_resolve(identity=identity, case_id=case.pk, note=data["note"])
        return _("The case is resolved.")
    if name == "lineage":
        edges = lineage.lineage_recompute(identity=identity, case_id=case.pk)
        return _("The evidence graph has %(count)d link(s).") % {"count": len(edges)}
    if name in ("block", "unblock"):
        if name == "block":
            days = data["days"]
            action = services.user_block(
                identity=identity,
                user_id=case.subject_id,
                reason_code=data["reason"].code,
                duration=dt.timedelta(days=days) if days else None,
                evidence=evidence,
            )
        else:
            action = services.user_unblock(
                identity=identity, user_id=case.subject_id, reason_code=data["reason"].code, evidence=evidence
            )
        return _recorded(action.get_action_display(), action.case_id, case)
    subject = "reader" if order.reader_id is not None and case.subject_id == order.reader_id else "client"
    moved, actions = services.order_moderate(
        identity=identity,
        order_id=order.pk,
        action=name,
        reason_code=data["reason"].code,
        evidence=evidence,
        subject=subject,
    )
    return _recorded(actions[0].get_action_display(), moved.pk, case)


def _recorded(what: str, case_id: int, case: Case) -> str:
    if case_id == case.pk:
        return _("Done: %(what)s, recorded on this case.") % {"what": what}
    # The services file an action on the subject's open case for that reason (or order), which may be another one.
    return _("Done: %(what)s, recorded on case #%(case)d.") % {"what": what, "case": case_id}


@admin.register(Case)
class CaseAdmin(DeclaredModelAdmin):
    list_display = [
        "id",
        "status",
        "priority",
        "sla_due",
        "team",
        "reason_label",
        "source",
        "subject",
        "scope",
        "assignee",
    ]
    list_filter = ["status", SlaFilter, "priority", "team", "source", "reason"]
    search_fields = ["=id", "=subject__id", "=order__id"]
    ordering = ["sla_due_at", "id"]
    list_select_related = ["reason", "assignee", "subject"]
    raw_id_fields = ["subject", "order", "media", "call"]
    action_form = CaseActionForm
    actions = [case_assign_to_me, case_resolve]
    # A new case is opened about someone or something; its status, SLA and resolution come from the services.
    add_fields = ["subject", "scope", "order", "media", "call", "reason", "team"]
    detail_fields = [
        "status", "priority", "team", "reason_label", "source", "subject", "scope", "order", "media", "call",
        "assignee", "opened", "sla_due", "resolution", "resolved", "resolved_by", "details",
    ]  # fmt: skip

    opened = time_column("opened_at", _("Opened"))
    sla_due = time_column("sla_due_at", _("SLA due"))
    resolved = time_column("resolved_at", _("Resolved"))

    @admin.display(description=_("Reason"), ordering="reason__label")
    def reason_label(self, obj):
        return obj.reason.label

    @admin.display(description=_("Resolution note"))
    def resolution(self, obj):
        return user_text(obj.resolution_note)

    def get_fields(self, request, obj=None):
        return self.add_fields if obj is None else self.detail_fields

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.detail_fields

    def save_model(self, request, obj, form, change):
        if not change:
            obj.status = Case.Status.OPEN
            obj.priority = obj.reason.severity
            obj.opened_at = timezone.now()
            obj.sla_due_at = Case.due_at(obj.opened_at, obj.priority)
        super().save_model(request, obj, form, change)

    def get_urls(self):
        act = path("<path:object_id>/act/", self.admin_site.admin_view(self.act_view), name="moderation_case_act")
        return [act, *super().get_urls()]

    def _context(self, request, case: Case) -> tuple[Identity, object, object]:
        identity = Identity.of(request.user)
        order = marketplace_selectors.order_get(identity=identity, order_id=case.order_id) if case.order_id else None
        return identity, order, case.subject

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if object_id and request.method == "POST":
            # Nothing on the case form is edited directly: resolving needs a note, through its button.
            self.message_user(request, _("A case changes only through the actions on its page."), messages.WARNING)
            return redirect(request.path)
        case = self.get_object(request, object_id) if object_id else None
        if case is not None:
            identity, order, subject = self._context(request, case)
            extra_context = {
                **(extra_context or {}),
                "show_save": False,
                "show_save_and_continue": False,
                "show_save_and_add_another": False,
                "case_page": True,
                "case_actions": bound_forms(case_offers(identity, case, order, subject), identity),
                "case_evidence": case.actions.select_related("reason", "actor").order_by("id"),
                "lineage": LINEAGE.scope(LineageEdge.objects.all(), identity).filter(case=case).order_by("id"),
                **subject_history(identity, case.subject_id),
                # What other apps draw for their cases (community: the thread and its buttons), by registry.
                "case_panels": [
                    render_to_string(template, context, request=request)
                    for template, context in targets.case_panels(identity, case)
                ],
            }
        return super().changeform_view(request, object_id, form_url, extra_context)

    def act_view(self, request, object_id):
        case = self.get_object(request, object_id)
        if case is None or request.method != "POST" or not self.has_change_permission(request, case):
            self.message_user(request, _("No such case."), messages.ERROR)
            return redirect(reverse("admin:moderation_case_changelist"))
        back = redirect(reverse("admin:moderation_case_change", args=[case.pk]))
        identity, order, subject = self._context(request, case)
        name = request.POST.get("do", "")
        offer = next((o for o in case_offers(identity, case, order, subject) if o.name == name), None)
        if offer is None or not offer.admits(identity):
            self.message_user(request, _("This action is not open to you on this case now."), messages.ERROR)
            return back
        form = offer.form(request.POST, prefix=name)
        if not form.is_valid():
            problems = "; ".join(f"{form.fields[f].label or f}: {' '.join(e)}" for f, e in form.errors.items())
            self.message_user(request, _("Not done. %(problems)s") % {"problems": problems}, messages.ERROR)
            return back
        attempt(self, request, lambda: _take(identity, case, order, name, form.cleaned_data))
        return back
