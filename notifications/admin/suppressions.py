"""Back office: suppressions, added and lifted through the services with their reason codes."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from unfold.widgets import UnfoldAdminTextInputWidget

from notifications import services
from notifications.admin.display import person, when
from notifications.apis import SuppressionLiftView
from notifications.models import Channel, LiftReason, Suppression
from samia.accounts.validators import validate_e164
from samia.rls.admin import DeclaredModelAdmin, run_action
from samia.rls.registry import Identity


def _lift_action(reason: LiftReason):
    def lift(modeladmin, request, queryset):
        identity = Identity.of(request.user)
        run_action(
            request,
            queryset,
            lambda suppression: services.suppression_lift(
                suppression_id=suppression.pk, actor=identity, reason=reason.value
            ),
        )

    lift.__name__ = f"lift_{reason.value}"
    return admin.action(description=format_lazy(_("Lift, because: {}"), reason.label), permissions=["lift"])(lift)


class ActiveFilter(admin.SimpleListFilter):
    title = _("active")
    parameter_name = "active"

    def lookups(self, request, model_admin):
        return [("yes", _("Active")), ("no", _("Lifted"))]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(lifted_at__isnull=self.value() == "yes")
        return queryset


class SuppressionForm(forms.ModelForm):
    """A manual suppression names a user or an address; one already covered is refused before saving."""

    address = forms.CharField(
        label=_("Number or device token"),
        required=False,
        max_length=4096,
        widget=UnfoldAdminTextInputWidget(attrs={"dir": "ltr"}),
        help_text=_("Instead of a user: an E.164 number (SMS, WhatsApp) or a push token. Only its keyed hash is kept."),
    )

    class Meta:
        model = Suppression
        fields = ["channel", "user", "reason", "note"]

    def clean(self):
        data = super().clean()
        user, address = data.get("user"), data.get("address", "")
        if not user and not address:
            raise forms.ValidationError({"user": [_("Choose the user to suppress, or give a number or token.")]})
        if address and data.get("channel") in (Channel.SMS, Channel.WHATSAPP):
            try:
                validate_e164(address)
            except ValidationError:
                self.add_error("address", _("An E.164 number, e.g. +447700900123."))
        active = Suppression.objects.filter(channel=data.get("channel"), lifted_at__isnull=True)
        if user and active.filter(user=user).exists():
            raise forms.ValidationError(_("An active suppression already covers this user on this channel."))
        return data


@admin.register(Suppression)
class SuppressionAdmin(DeclaredModelAdmin):
    form = SuppressionForm
    list_display = ["id", "channel", "recipient", "reason", "source", "created", "creator", "lifted", "lifter"]
    list_select_related = ["user", "created_by", "lifted_by"]
    list_filter = [ActiveFilter, "channel", "reason", "source"]
    raw_id_fields = ["user"]
    readonly_fields = ["recipient", "created", "creator", "lifted", "lifter"]
    actions = [_lift_action(reason) for reason in LiftReason]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["channel", "user", "address", "reason", "note"]
        return ["channel", "recipient", "reason", "source", "note", "created", "creator", "lifted", "lifter"]

    def has_change_permission(self, request, obj=None):
        # Only lifting (the actions) changes a suppression.
        return obj is None and super().has_change_permission(request, obj)

    def has_lift_permission(self, request):
        return (
            request.user.is_active and Identity.of(request.user).persona in SuppressionLiftView.access["POST"].roles()
        )

    def save_model(self, request, obj, form, change):
        # Through the service: one active suppression per recipient, the address hashed, an audit entry.
        saved = services.suppression_add(
            channel=obj.channel,
            reason=obj.reason,
            actor=Identity.of(request.user),
            user_id=obj.user_id,
            address=form.cleaned_data.get("address", ""),
            note=obj.note,
        )
        obj.pk = saved.pk

    @admin.display(description=_("recipient"))
    def recipient(self, suppression):
        return person(suppression.user) if suppression.user_id else _("a number or token (hashed)")

    @admin.display(description=_("added"), ordering="created_at")
    def created(self, suppression):
        return when(suppression.created_at)

    @admin.display(description=_("added by"))
    def creator(self, suppression):
        return person(suppression.created_by) if suppression.created_by_id else _("automatic")

    @admin.display(description=_("lifted"), ordering="lifted_at")
    def lifted(self, suppression):
        return when(suppression.lifted_at)

    @admin.display(description=_("lifted by"))
    def lifter(self, suppression):
        return person(suppression.lifted_by) if suppression.lifted_by_id else "-"
