"""Feature switches in the back office: admins turn one on or off with a reason, through feature_set (audited)."""

import re

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.utils.translation import gettext_lazy as _
from waffle.models import Flag, Sample, Switch

from samia.features import selectors, services
from samia.features.policies import SWITCHES_TABLE
from samia.rls.access import writes
from samia.rls.admin import ReadOnlyAdmin, run_action
from samia.rls.registry import Identity

REASON = re.compile(r"^[A-Za-z0-9_.:\-]{1,64}$")
# The guard of POST /admin/features: whoever may update the switch table is offered the actions.
TURN = writes(SWITCHES_TABLE, "update")


class SwitchActionForm(helpers.ActionForm):
    reason = forms.CharField(
        required=False,
        max_length=64,
        help_text=_("Why, as a short code (launch, incident-1234): required to turn a switch."),
    )


def _turn(modeladmin, request, queryset, enabled: bool):
    identity = Identity.of(request.user)
    if identity.persona not in TURN.roles():
        modeladmin.message_user(request, _("Your role may not turn feature switches."), messages.ERROR)
        return
    reason = request.POST.get("reason", "").strip()
    if not REASON.match(reason):
        modeladmin.message_user(request, _("Give the reason as a short code first."), messages.ERROR)
        return
    run_action(
        request,
        queryset,
        lambda switch: services.feature_set(identity=identity, name=switch.name, enabled=enabled, reason=reason),
    )


@admin.action(description=_("Turn the selected switches on (with the reason)"))
def switch_on(modeladmin, request, queryset):
    _turn(modeladmin, request, queryset, True)


@admin.action(description=_("Turn the selected switches off (with the reason)"))
def switch_off(modeladmin, request, queryset):
    _turn(modeladmin, request, queryset, False)


# waffle's own pages (imported first: waffle comes before samia.features in INSTALLED_APPS) would turn a
# switch without a reason or an audit entry; flags and samples are not used.
for model in (Flag, Sample, Switch):
    if admin.site.is_registered(model):
        admin.site.unregister(model)


@admin.register(Switch)
class SwitchAdmin(ReadOnlyAdmin):
    """Read-only rows (the switches come from a migration); admins turn them with the list's actions."""

    list_display = ["name", "active", "modified"]
    ordering = ["name"]
    action_form = SwitchActionForm
    actions = [switch_on, switch_off]
    readonly_fields = ["name", "active", "note", "created", "modified"]
    fields = readonly_fields

    def get_queryset(self, request):
        return super().get_queryset(request).filter(name__in=selectors.KNOWN)

    def get_actions(self, request):
        # What a role may not do is not offered: the actions only to those the API's guard admits.
        if Identity.of(request.user).persona not in TURN.roles():
            return {}
        return super().get_actions(request)
