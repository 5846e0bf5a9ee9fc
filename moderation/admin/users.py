"""Users in the back office, with moderation's block and unblock: moderation actions, taken through its services."""

import datetime as dt

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from moderation import services
from moderation.admin.common import ReasonField
from moderation.models import ModerationAction
from moderation.policies import ACTIONS_TABLE
from samia.accounts.admin import UserAdmin
from samia.accounts.models import User
from samia.rls.access import InsertsRow
from samia.rls.admin import REFUSALS, service_refusal
from samia.rls.registry import Identity


class UserModerationInput(forms.Form):
    reason = ReasonField(required=False, label=gettext_lazy("Reason"))
    days = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=services.MAX_DURATION.days,
        label=gettext_lazy("Days"),
        help_text=gettext_lazy("Empty: indefinite block."),
    )


class UserActionForm(UserModerationInput, ActionForm):
    pass


def _messages(verb: str, done: int) -> dict[str, str]:
    """The block or unblock action's messages, each a whole sentence to translate."""
    if verb == "block":
        return {
            "invalid": _("Choose a reason (and a valid number of days) to block."),
            "done": ngettext(
                "%(count)s user blocked; each has a moderation action and a case.",
                "%(count)s users blocked; each has a moderation action and a case.",
                done,
            ),
            "refused": _("Not blocked: %(reasons)s"),
        }
    return {
        "invalid": _("Choose a reason to unblock."),
        "done": ngettext(
            "%(count)s user unblocked; each has a moderation action and a case.",
            "%(count)s users unblocked; each has a moderation action and a case.",
            done,
        ),
        "refused": _("Not unblocked: %(reasons)s"),
    }


def _moderate_users(modeladmin, request, queryset, verb: str, act) -> None:
    form = UserModerationInput(request.POST)
    if not form.is_valid() or form.cleaned_data["reason"] is None:
        modeladmin.message_user(request, _messages(verb, 0)["invalid"], messages.ERROR)
        return
    done, refused = 0, []
    for user_id in queryset.values_list("id", flat=True):
        try:
            # One savepoint per user: a refusal leaves the others' actions standing.
            with transaction.atomic():
                act(user_id, form.cleaned_data)
            done += 1
        except REFUSALS as refusal:
            reason = service_refusal(refusal, User)
            if reason is None:
                raise
            refused.append(f"#{user_id}: {reason}")
    said = _messages(verb, done)
    if done:
        modeladmin.message_user(request, said["done"] % {"count": done})
    if refused:
        modeladmin.message_user(request, said["refused"] % {"reasons": "; ".join(refused)}, messages.ERROR)


@admin.action(description=gettext_lazy("Block selected users (reason, days)"), permissions=["block"])
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


@admin.action(description=gettext_lazy("Unblock selected users (reason)"), permissions=["unblock"])
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
