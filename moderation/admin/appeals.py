"""Moderation actions (read: the services take them) and appeals (decided on their page through the service)."""

from __future__ import annotations

import datetime as dt
from functools import partial

from django import forms
from django.contrib import admin, messages
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from moderation import appeals
from moderation.admin.common import Offer, attempt, bound_forms, subject_history, user_text
from moderation.models import Appeal, ModerationAction
from moderation.policies import APPEALS_TABLE
from samia.backoffice_timezone import time_column
from samia.rls.access import StateChange
from samia.rls.admin import DeclaredModelAdmin, ReadOnlyAdmin
from samia.rls.registry import Identity

Code = ModerationAction.Code
# The guard of POST /monitor/appeals/<id>/resolve (moderation/apis.py).
DECIDE = StateChange(APPEALS_TABLE, "status", ("open",), "decided")
# What a modify can change (moderation.appeals._modify): a block's length, an unlisting into a hold.
MODIFIABLE = (Code.BLOCK, Code.UNLIST)


@admin.register(ModerationAction)
class ModerationActionAdmin(ReadOnlyAdmin):
    """Actions are taken by the services (they change users and orders, open cases, write the audit); here they are read."""

    list_display = ["id", "action", "target", "subject", "reason_label", "actor", "created", "lift_reason"]
    list_filter = ["action", "target_type", "reason", "lift_reason"]
    search_fields = ["=id", "=subject__id", "=target_id"]
    ordering = ["-id"]
    list_select_related = ["reason", "actor", "subject"]
    fields = [
        "action", "target", "subject", "reason_label", "evidence_text", "duration", "expires", "case", "actor",
        "created", "lifted", "lifted_by", "lift_reason",
    ]  # fmt: skip
    readonly_fields = fields

    created = time_column("created_at", _("Taken"))
    expires = time_column("expires_at", _("Expires"))
    lifted = time_column("lifted_at", _("Lifted"))

    @admin.display(description=_("Target"))
    def target(self, obj):
        return _("%(model)s #%(id)s") % {"model": obj.get_target_type_display(), "id": obj.target_id}

    @admin.display(description=_("Reason"), ordering="reason__label")
    def reason_label(self, obj):
        return obj.reason.label

    @admin.display(description=_("Evidence"))
    def evidence_text(self, obj):
        return user_text(", ".join(str(item) for item in obj.evidence))


class DecideInput(forms.Form):
    decision = forms.ChoiceField(label=_("Decision"), widget=forms.RadioSelect)
    rationale = forms.CharField(
        label=_("Rationale"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3, "dir": "auto"})
    )
    days = forms.IntegerField(
        label=_("Days"),
        required=False,
        min_value=1,
        max_value=3650,
        help_text=_("Modify a block: its new length in days (empty: indefinite)."),
    )

    def __init__(self, *args, action: ModerationAction, **kwargs):
        super().__init__(*args, **kwargs)
        decisions = [Appeal.Decision.UPHOLD, Appeal.Decision.OVERTURN]
        if action.action in MODIFIABLE and action.is_in_force:
            decisions.append(Appeal.Decision.MODIFY)
        labels = {
            Appeal.Decision.UPHOLD: _("Uphold"),
            Appeal.Decision.OVERTURN: _("Overturn (lift it)"),
            Appeal.Decision.MODIFY: _("Modify (the block's length, or a hold instead of an unlisting)"),
        }
        self.fields["decision"].choices = [(d.value, labels[d]) for d in decisions]
        if action.action != Code.BLOCK:
            del self.fields["days"]

    def modify(self, action: ModerationAction) -> dict | None:
        if self.cleaned_data["decision"] != Appeal.Decision.MODIFY:
            return None
        if action.action == Code.UNLIST:
            return {"action": Code.HOLD}
        days = self.cleaned_data.get("days")
        return {"duration": dt.timedelta(days=days) if days else None}


class AppealOpenForm(forms.ModelForm):
    class Meta:
        model = Appeal
        fields = ["action", "statement"]
        widgets = {"statement": forms.Textarea(attrs={"rows": 3, "dir": "auto"})}


@admin.register(Appeal)
class AppealAdmin(DeclaredModelAdmin):
    list_display = ["id", "status", "decision", "action", "subject", "opened", "decided", "decided_by"]
    list_filter = ["status", "decision"]
    search_fields = ["=id", "=subject__id", "=action__id"]
    ordering = ["status", "opened_at"]
    list_select_related = ["action", "subject", "decided_by"]
    raw_id_fields = ["action"]
    detail_fields = [
        "action", "subject", "opened_by", "statement_text", "status", "opened", "decision", "decided", "decided_by",
        "rationale", "replacement",
    ]  # fmt: skip

    opened = time_column("opened_at", _("Opened"))
    decided = time_column("decided_at", _("Decided"))

    @admin.display(description=_("Statement"))
    def statement_text(self, obj):
        return user_text(obj.statement)

    @admin.display(description=_("Rationale"))
    def rationale(self, obj):
        return user_text(obj.notes)

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = AppealOpenForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        return AppealOpenForm.Meta.fields if obj is None else self.detail_fields

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.detail_fields

    def save_model(self, request, obj, form, change):
        if change:
            return
        # Staff open an appeal on the subject's behalf through the service (it checks the action and audits).
        opened = appeals.appeal_open(
            identity=Identity.of(request.user), action_id=obj.action_id, statement=obj.statement
        )
        obj.__dict__.update({k: v for k, v in opened.__dict__.items() if k != "_state"})
        obj._state.adding = False

    def get_urls(self):
        decide = path(
            "<path:object_id>/decide/", self.admin_site.admin_view(self.decide_view), name="moderation_appeal_decide"
        )
        return [decide, *super().get_urls()]

    def _offers(self, appeal: Appeal) -> list[Offer]:
        form = partial(DecideInput, action=appeal.action)
        return [Offer("decide", _("Decide"), (DECIDE,), form, state=appeal.status == Appeal.Status.OPEN)]

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if object_id and request.method == "POST":
            self.message_user(request, _("An appeal changes only through its decision."), messages.WARNING)
            return redirect(request.path)
        appeal = self.get_object(request, object_id) if object_id else None
        if appeal is not None:
            identity = Identity.of(request.user)
            extra_context = {
                **(extra_context or {}),
                "show_save": False,
                "show_save_and_continue": False,
                "show_save_and_add_another": False,
                "appeal_page": True,
                "appeal_actions": bound_forms(self._offers(appeal), identity),
                "appealed": [appeal.action],
                **subject_history(identity, appeal.subject_id),
            }
        return super().changeform_view(request, object_id, form_url, extra_context)

    def decide_view(self, request, object_id):
        appeal = self.get_object(request, object_id)
        if appeal is None or request.method != "POST":
            self.message_user(request, _("No such appeal."), messages.ERROR)
            return redirect(reverse("admin:moderation_appeal_changelist"))
        back = redirect(reverse("admin:moderation_appeal_change", args=[appeal.pk]))
        identity = Identity.of(request.user)
        offer = self._offers(appeal)[0]
        if not offer.admits(identity):
            self.message_user(request, _("This appeal is not open to your decision."), messages.ERROR)
            return back
        form = offer.form(request.POST, prefix=offer.name)
        if not form.is_valid():
            problems = "; ".join(f"{form.fields[f].label or f}: {' '.join(e)}" for f, e in form.errors.items())
            self.message_user(request, _("Not decided. %(problems)s") % {"problems": problems}, messages.ERROR)
            return back

        def decide():
            decided = appeals.appeal_resolve(
                identity=identity,
                appeal_id=appeal.pk,
                decision=form.cleaned_data["decision"],
                rationale=form.cleaned_data["rationale"],
                modify=form.modify(appeal.action),
            )
            return _("The appeal is decided: %(decision)s.") % {"decision": decided.get_decision_display()}

        attempt(self, request, decide)
        return back
