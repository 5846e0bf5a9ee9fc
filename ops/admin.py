"""Provider operations in the back office: the switches, the last probes and the keyring's metadata.

Every change goes through the service the API calls, so it is checked and audited the same way:
a switch through `provider_toggle` (`ops.provider.toggle`), a rotation through `secret_rotate`
(`ops.secret.rotate`). What a role may not do is not offered: the guards are the API routes' own.
The keyring is read on the owner's connection, as `GET /admin/secrets` reads it (`samia_app` has
no privilege on it), and only its metadata: never a value or a ciphertext.
"""

import re

from django import forms
from django.contrib import admin, messages
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.translation import gettext, gettext_lazy

from ops import selectors, services
from ops.models import ProviderProbe, ProviderState, SecretRotation
from samia.backoffice_timezone import local_time, time_column
from samia.providers import registry
from samia.rls.access import reads, writes
from samia.rls.admin import REFUSALS, DeclaredModelAdmin, ReadOnlyAdmin, service_refusal
from samia.rls.registry import Identity
from samia.secrets import catalog
from samia.secrets.services import ROLE_RANK

# The guards of POST /admin/providers/toggle, GET /admin/secrets and POST /admin/secrets/rotate (ops/apis.py).
TOGGLE = writes("ops_providerstate", "update")
KEYRING = reads("ops_secretrotation")
ROTATE = writes("ops_secretrotation", "insert")
REASON_CODE = re.compile(r"^[A-Za-z0-9_.:\-]{1,64}$")


class ProviderStateForm(forms.ModelForm):
    name = forms.ChoiceField(label=gettext_lazy("Provider"))
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        max_length=200,
        widget=forms.Textarea(attrs={"rows": 2, "dir": "auto"}),
        help_text=gettext_lazy("Why you switch it (required); staff read it next to the switch."),
    )

    class Meta:
        model = ProviderState
        fields = ["name", "enabled", "reason"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "name" in self.fields:
            self.fields["name"].choices = [(name, name) for name in selectors.provider_names()]
        self.initial["reason"] = ""  # each switch says its own why

    def validate_unique(self):
        pass  # switching a provider switched before updates its row: the service's update_or_create


@admin.register(ProviderState)
class ProviderStateAdmin(DeclaredModelAdmin):
    """Staff read the switches; admins switch one on or off with a reason (no row: on)."""

    form = ProviderStateForm
    list_display = ["name", "enabled", "reason_text", "changed_by", "changed"]
    list_select_related = ["changed_by"]
    ordering = ["name"]
    changed = time_column("changed_at", gettext_lazy("changed"))

    @admin.display(description=gettext_lazy("reason"))
    def reason_text(self, obj):
        return obj.reason

    def has_add_permission(self, request):
        return Identity.of(request.user).persona in TOGGLE.roles() and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return Identity.of(request.user).persona in TOGGLE.roles() and super().has_change_permission(request, obj)

    def get_fields(self, request, obj=None):
        return ["name", "enabled", "reason"] if obj is None else ["name", "enabled", "reason", "changed_by", "changed"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        if not self.has_change_permission(request, obj):
            return ["name", "enabled", "reason", "changed_by", "changed"]
        return ["name", "changed_by", "changed"]

    def save_model(self, request, obj, form, change):
        # Through the service the API calls: the same checks, the same audit entry, the caches dropped.
        state = services.provider_toggle(
            name=obj.name, enabled=obj.enabled, reason=obj.reason, actor=Identity.of(request.user)
        )
        obj.__dict__.update({key: value for key, value in state.__dict__.items() if key != "_state"})
        obj._state.adding = False


@admin.register(ProviderProbe)
class ProviderProbeAdmin(ReadOnlyAdmin):
    """The last probe of each provider (ops.providers_probe, every minute) and its circuit now."""

    list_display = ["name", "ok", "code", "latency_ms", "probed", "circuit"]
    ordering = ["name"]
    readonly_fields = ["name", "ok", "code", "latency_ms", "probed", "circuit"]
    fields = readonly_fields
    probed = time_column("probed_at", gettext_lazy("probed"))

    @admin.display(description=gettext_lazy("circuit"))
    def circuit(self, obj):
        labels = {"closed": gettext("closed"), "open": gettext("open"), "half-open": gettext("half-open")}
        try:
            state = registry.breaker(obj.name).state
        except Exception:  # a provider no longer in PROVIDERS, or Redis away: say so, not a server error
            return "-"
        return labels.get(state, state)


class RotateForm(forms.Form):
    name = forms.ChoiceField(label=gettext_lazy("Key"))
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        max_length=64,
        help_text=gettext_lazy("Why, as a short code (schedule, incident-1234): it goes into the audit trail."),
    )

    def __init__(self, *args, names: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].choices = [(name, name) for name in names]

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not REASON_CODE.match(reason):
            raise forms.ValidationError(gettext("Give the reason as a short code: letters, digits, - _ . :"))
        return reason


def rotatable(identity: Identity) -> list[str]:
    """The generated keys `identity` may rotate, as the API decides (jwt and audit_signing: superadmins)."""
    if identity.persona not in ROTATE.roles():
        return []
    rank = ROLE_RANK.get(identity.role or "", 0)
    return [name for name, spec in catalog.ROTATING.items() if rank >= ROLE_RANK[spec.role]]


@admin.register(SecretRotation)
class SecretRotationAdmin(ReadOnlyAdmin):
    """Rotations asked for through the API or here; above the list, the keyring's versions (metadata)."""

    list_display = ["name", "version", "key_id", "fingerprint", "rotated_by", "rotated"]
    list_select_related = ["rotated_by"]
    ordering = ["-rotated_at"]
    list_before_template = "ops/admin/keyring.html"
    readonly_fields = ["name", "version", "key_id", "fingerprint", "rotated_by", "rotated"]
    fields = readonly_fields
    rotated = time_column("rotated_at", gettext_lazy("rotated"))

    def get_urls(self):
        rotate = self.admin_site.admin_view(self.rotate_view)
        return [path("rotate/", rotate, name="ops_secretrotation_rotate"), *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        identity = Identity.of(request.user)
        names = rotatable(identity)
        extra_context = {
            **(extra_context or {}),
            "keyring": self._versions() if identity.persona in KEYRING.roles() else [],
            "never_rotated": catalog.NEVER_ROTATED,
            "rotate_form": RotateForm(names=names) if names else None,
        }
        return super().changelist_view(request, extra_context)

    def _versions(self) -> list[dict]:
        """The keyring's metadata, newest first per name; the times in the staff member's zone."""
        versions = selectors.secret_list()  # never a ciphertext (secrets.services.secret_list)
        keep = ("name", "version", "key_id", "fingerprint", "kind")
        statuses = {"active": gettext("active"), "previous": gettext("previous"), "retired": gettext("retired")}
        return [
            {
                **{key: version[key] for key in keep},
                "status": statuses.get(version["status"], version["status"]),
                "created": local_time(version["created_at"]),
                "activated": local_time(version["activated_at"]),
                "retires": local_time(version["retires_at"]),
            }
            for version in versions
        ]

    def rotate_view(self, request):
        """Rotate one generated key (a name this role may rotate, and a reason code); say the result."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        back = HttpResponseRedirect(reverse("admin:ops_secretrotation_changelist"))
        identity = Identity.of(request.user)
        names = rotatable(identity)
        if not names:
            self.message_user(request, gettext("Your role may not rotate keys."), messages.ERROR)
            return back
        form = RotateForm(request.POST, names=names)
        if not form.is_valid():
            errors = "; ".join(
                f"{form.fields[field].label}: {' '.join(problems)}" for field, problems in form.errors.items()
            )
            self.message_user(request, gettext("Not rotated. %(errors)s") % {"errors": errors}, messages.ERROR)
            return back
        name = form.cleaned_data["name"]
        try:
            rotation = services.secret_rotate(name=name, actor=identity, reason=form.cleaned_data["reason"])
        except REFUSALS as error:
            message = service_refusal(error, SecretRotation)
            if message is None:
                raise
            self.message_user(request, gettext("Not rotated: %(reason)s") % {"reason": message}, messages.ERROR)
            return back
        self.message_user(
            request,
            gettext("%(name)s rotated: version %(version)s (key id %(key_id)s) signs from now on.")
            % {"name": name, "version": rotation.version, "key_id": rotation.key_id},
            messages.SUCCESS,
        )
        return back
