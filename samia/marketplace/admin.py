"""The marketplace in the back office: orders move by buttons that call the state machine's service."""

from collections.abc import Callable
from dataclasses import dataclass

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import Q
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from unfold.widgets import UnfoldAdminSelectWidget, UnfoldAdminTextareaWidget

from samia.accounts.models import Role, User
from samia.backoffice_timezone import time_column
from samia.marketplace import services
from samia.marketplace.models import Call, Horoscope, MediaAsset, Order, Payment, Service
from samia.marketplace.policies import ORDER_TABLE
from samia.marketplace.states import ALL_TRANSITIONS, TRANSITIONS
from samia.rls.access import StateChange
from samia.rls.admin import REFUSALS, DeclaredModelAdmin, run_action, service_refusal
from samia.rls.registry import Identity


def user_written(text: str):
    """Render text a person wrote (Arabic or English) in its own direction."""
    return format_html('<div dir="auto" style="white-space: pre-line">{}</div>', text) if text else "-"


@admin.register(Service)
class ServiceAdmin(DeclaredModelAdmin):
    # The name in each language (modeltranslation columns; I18N_README.md), English required.
    fields = ["code", "name_en", "name_ar", "is_premium", "base_price", "currency", "is_active"]
    list_display = ["code", "name_en", "name_ar", "is_premium", "base_price", "currency", "is_active"]
    list_filter = ["is_premium", "is_active"]


# --- order buttons: what each transition asks for and which service it calls ------------------------------------


@dataclass(frozen=True)
class OrderButton:
    """One transition on the order page: its label, the input it asks for, and the service call.

    `run(identity, order, cleaned_data)` calls the service and raises its refusals. Buttons are
    offered only where the declarations let the staff member's role make the move from the
    order's state (see `order_actions_offered`).
    """

    label: str  # gettext_lazy: the button's text, and the action named in its messages
    run: Callable[[Identity, Order, dict], object]
    form: type[forms.Form] = forms.Form
    danger: bool = False


# action -> button. The kernel fills the /orders transitions; moderation (which the kernel may not
# import) registers hold, unlist and release with `order_button_register`, calling order_moderate.
ORDER_BUTTONS: dict[str, OrderButton] = {}


def order_button_register(action: str, button: OrderButton) -> None:
    """Offer `action` (a transition of the state machine) as a button on the order page."""
    if action not in ALL_TRANSITIONS:
        raise ValueError(f"{action!r} is not an order transition")
    ORDER_BUTTONS[action] = button


def _active_readers():
    now = timezone.now()
    readers = User.objects.filter(role=Role.READER, is_active=True)
    return readers.filter(Q(blocked_at__isnull=True) | Q(blocked_until__lte=now)).order_by("first_name", "id")


class AssignInput(forms.Form):
    reader = forms.ModelChoiceField(
        queryset=User.objects.none(),
        label=gettext_lazy("Reader"),
        empty_label=gettext_lazy("Choose a reader"),
        widget=UnfoldAdminSelectWidget,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reader"].queryset = _active_readers()


class RejectInput(forms.Form):
    reason = forms.CharField(
        max_length=500,
        label=gettext_lazy("Reason"),
        widget=UnfoldAdminTextareaWidget(attrs={"rows": 2, "dir": "auto"}),
        help_text=gettext_lazy("The reader reads it."),
    )


def _transition(action: str, **inputs: Callable[[dict], object]):
    def run(identity: Identity, order: Order, data: dict):
        values = {name: value(data) for name, value in inputs.items()}
        return services.order_transition(identity=identity, order_id=order.pk, action=action, **values)

    return run


order_button_register(
    "assign",
    OrderButton(gettext_lazy("Assign"), _transition("assign", reader_id=lambda d: d["reader"].pk), AssignInput),
)
order_button_register("approve", OrderButton(gettext_lazy("Approve"), _transition("approve")))
order_button_register(
    "reject",
    OrderButton(gettext_lazy("Reject"), _transition("reject", reason=lambda d: d["reason"]), RejectInput, danger=True),
)
order_button_register("deliver", OrderButton(gettext_lazy("Deliver"), _transition("deliver")))
order_button_register("cancel", OrderButton(gettext_lazy("Cancel"), _transition("cancel"), danger=True))
# The bulk actions (those that need no input), one sentence each for the action menu.
BULK_DESCRIPTIONS = {
    "approve": gettext_lazy("Approve selected orders"),
    "deliver": gettext_lazy("Deliver selected orders"),
    "cancel": gettext_lazy("Cancel selected orders"),
}


def order_actions_offered(persona: str, order: Order) -> list[str]:
    """Return the transitions `persona` may take on `order` now, as the declarations (and Postgres) decide."""
    offered = []
    for action, transition in ALL_TRANSITIONS.items():
        if action not in ORDER_BUTTONS or order.status not in transition.sources:
            continue
        target = transition.target or order.held_from  # release: back where it was held from
        if target and persona in StateChange(ORDER_TABLE, "status", (order.status,), target).roles():
            offered.append(action)
    return offered


def _bulk_transition(action: str):
    def run(modeladmin, request, queryset):
        identity = Identity.of(request.user)
        run_action(
            request,
            queryset.order_by("id"),
            lambda order: services.order_transition(identity=identity, order_id=order.pk, action=action),
        )

    run.__name__ = f"order_{action}"
    run.short_description = BULK_DESCRIPTIONS[action]
    run.allowed_permissions = ("change",)
    return run


@admin.register(Order)
class OrderAdmin(DeclaredModelAdmin):
    list_display = ["id", "service", "status", "is_gold", "client", "reader", "created", "delivered"]
    # No date_hierarchy: its year links aggregate the whole RLS-scoped table on every page.
    list_filter = ["status", "is_gold", "service", "created_at"]
    search_fields = ["=id", "=client__id", "=reader__id"]
    ordering = ["-id"]
    list_select_related = ["service", "client", "reader"]
    change_form_outer_before_template = "marketplace/admin/order_buttons.html"
    # The state machine owns status and its stamps, and an order's other fields are fixed: staff move
    # orders with the buttons (and the bulk actions), never by editing the form.
    fieldsets = [
        (None, {"fields": ["service", "status", "is_gold", "client", "reader", "question_text"]}),
        (gettext_lazy("Decision"), {"fields": ["rejection_reason_text", "decided"]}),
        (
            gettext_lazy("Progress"),
            {"fields": ["created", "assigned", "started", "submitted", "delivered", "cancelled"]},
        ),
        (gettext_lazy("Moderation"), {"fields": ["held_from", "held", "released"]}),
    ]
    readonly_fields = [name for _, options in fieldsets for name in options["fields"]]
    # Bulk moves that need no input; each role sees only those its declarations allow.
    actions = [_bulk_transition(a) for a in ("approve", "deliver", "cancel")]

    created = time_column("created_at", gettext_lazy("created"))
    assigned = time_column("assigned_at", gettext_lazy("assigned"))
    started = time_column("started_at", gettext_lazy("started"))
    submitted = time_column("submitted_at", gettext_lazy("submitted"))
    decided = time_column("decided_at", gettext_lazy("decided"))
    delivered = time_column("delivered_at", gettext_lazy("delivered"))
    cancelled = time_column("cancelled_at", gettext_lazy("cancelled"))
    held = time_column("held_at", gettext_lazy("held"))
    released = time_column("released_at", gettext_lazy("released"))

    @admin.display(description=gettext_lazy("question"))
    def question_text(self, order):
        return user_written(order.question)

    @admin.display(description=gettext_lazy("rejection reason"))
    def rejection_reason_text(self, order):
        return user_written(order.rejection_reason)

    def get_actions(self, request):
        actions = super().get_actions(request)
        persona = Identity.of(request.user).persona
        for action in ("approve", "deliver", "cancel"):
            transition = TRANSITIONS[action]
            roles = StateChange(ORDER_TABLE, "status", transition.sources, transition.target).roles()
            if persona not in roles:
                actions.pop(f"order_{action}", None)
        return actions

    def get_urls(self):
        view = self.admin_site.admin_view(self.transition_view)
        own = [path("<path:object_id>/transition/<str:action>/", view, name="marketplace_order_transition")]
        return [*own, *super().get_urls()]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        order = self.get_object(request, object_id)
        buttons = []
        if order is not None:
            for action in order_actions_offered(Identity.of(request.user).persona, order):
                button = ORDER_BUTTONS[action]
                form = button.form(auto_id=f"id_{action}_%s")
                url = reverse("admin:marketplace_order_transition", args=[order.pk, action])
                buttons.append(
                    {"action": action, "label": button.label, "form": form, "url": url, "danger": button.danger}
                )
        # Nothing on the form is edited directly: no save buttons, and a posted form changes nothing.
        hidden = {"show_save": False, "show_save_and_continue": False, "show_save_and_add_another": False}
        extra_context = {**(extra_context or {}), **hidden, "order_buttons": buttons}
        if order is not None and request.method == "POST":
            self.message_user(request, _("An order changes only through the buttons on its page."), messages.WARNING)
            return HttpResponseRedirect(request.get_full_path())
        return super().change_view(request, object_id, form_url, extra_context)

    def transition_view(self, request, object_id, action):
        """Take one transition from the order page: offered, valid input, the service's answer as a message."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        order = self.get_object(request, object_id)
        if order is None:
            self.message_user(request, _("No such order."), messages.ERROR)
            return HttpResponseRedirect(reverse("admin:marketplace_order_changelist"))
        back = HttpResponseRedirect(reverse("admin:marketplace_order_change", args=[order.pk]))
        button = ORDER_BUTTONS.get(action)
        if button is None or action not in order_actions_offered(Identity.of(request.user).persona, order):
            status = order.get_status_display().lower()
            if button is None:
                message = _("You cannot do that to order #%(order)s now: it is %(status)s.")
            else:
                message = _("You cannot %(action)s order #%(order)s now: it is %(status)s.")
            action_name = str(button.label).lower() if button else ""
            self.message_user(
                request, message % {"action": action_name, "order": order.pk, "status": status}, messages.ERROR
            )
            return back
        form = button.form(request.POST)
        if not form.is_valid():
            errors = " ".join(
                _("%(field)s: %(errors)s") % {"field": form[name].label, "errors": " ".join(e)}
                for name, e in form.errors.items()
            )
            self.message_user(
                request, _("%(action)s: %(errors)s") % {"action": button.label, "errors": errors}, messages.ERROR
            )
            return back
        try:
            with transaction.atomic():
                button.run(Identity.of(request.user), order, form.cleaned_data)
        except REFUSALS as error:
            reason = service_refusal(error, Order)
            if reason is None:
                raise
            self.message_user(
                request,
                _("%(action)s refused: %(reason)s") % {"action": button.label, "reason": reason},
                messages.ERROR,
            )
            return back
        order.refresh_from_db()
        done = _("Order #%(order)s: %(action)s done; it is now %(status)s.") % {
            "order": order.pk,
            "action": str(button.label).lower(),
            "status": order.get_status_display().lower(),
        }
        self.message_user(request, done, messages.SUCCESS)
        return back


class MediaUploadForm(forms.ModelForm):
    upload = forms.FileField(
        label=gettext_lazy("Upload"),
        help_text=gettext_lazy("Size, sha256, type and duration are measured from the file."),
    )

    class Meta:
        model = MediaAsset
        fields = ["owner", "order", "kind"]


@admin.register(MediaAsset)
class MediaAssetAdmin(DeclaredModelAdmin):
    list_display = ["id", "kind", "content_type", "bytes", "duration_seconds", "owner", "order_id", "created"]
    list_filter = ["kind", "content_type"]
    list_select_related = ["owner"]
    search_fields = ["=sha256", "=order__id"]
    raw_id_fields = ["owner", "order"]
    readonly_fields = ["storage_key", "content_type", "bytes", "sha256", "duration_seconds", "created", "removed"]
    fields = ["owner", "order", "kind", *readonly_fields]

    created = time_column("created_at", gettext_lazy("created"))
    removed = time_column("removed_at", gettext_lazy("removed"))

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = MediaUploadForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["owner", "order", "kind", "upload"]
        return super().get_fields(request, obj)

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        created = services.media_asset_create(
            owner_id=obj.owner_id,
            order_id=obj.order_id,
            kind=obj.kind,
            content=form.cleaned_data["upload"].read(),
        )
        obj.pk = created.pk
        obj.__dict__.update(created.__dict__)


@admin.register(Call)
class CallAdmin(DeclaredModelAdmin):
    list_display = ["id", "order_id", "client", "reader", "status", "scheduled", "answered", "ended", "dropped_by"]
    list_filter = ["status", "dropped_by", "scheduled_at"]
    list_select_related = ["client", "reader"]
    search_fields = ["=order__id"]
    raw_id_fields = ["order", "client", "reader"]

    scheduled = time_column("scheduled_at", gettext_lazy("scheduled"))
    answered = time_column("answered_at", gettext_lazy("answered"))
    ended = time_column("ended_at", gettext_lazy("ended"))


@admin.register(Payment)
class PaymentAdmin(DeclaredModelAdmin):
    list_display = [
        "id",
        "order_id",
        "provider",
        "country",
        "amount",
        "currency",
        "status",
        "attempt",
        "fallback_of_id",
        "created",
    ]
    # Country and currency are searched (e.g. "SA"), not filtered: a filter lists the table's distinct
    # values, one pass over every payment on each page.
    list_filter = ["provider", "status"]
    search_fields = ["=order__id", "provider_reference", "=country", "=currency"]
    raw_id_fields = ["order", "fallback_of"]
    readonly_fields = ["created", "updated"]

    created = time_column("created_at", gettext_lazy("created"))
    updated = time_column("updated_at", gettext_lazy("updated"))


@admin.action(description=gettext_lazy("Approve selected horoscopes"), permissions=["change"])
def horoscope_approve(modeladmin, request, queryset):
    # One by one through the service: one with an unreviewed machine translation is refused, by id and why.
    identity = Identity.of(request.user)
    run_action(
        request,
        queryset.exclude(approval_status=Horoscope.Approval.APPROVED),
        lambda horoscope: services.horoscope_approve(identity=identity, horoscope_id=horoscope.pk),
    )


@admin.register(Horoscope)
class HoroscopeAdmin(DeclaredModelAdmin):
    list_display = ["id", "sign", "date", "scope", "text_start", "approval_status", "approved_by", "approved"]
    list_filter = ["approval_status", "sign", "scope"]
    list_select_related = ["approved_by"]
    date_hierarchy = "date"
    raw_id_fields = ["audio"]
    readonly_fields = ["approved_by", "approved", "created"]
    actions = [horoscope_approve]

    approved = time_column("approved_at", gettext_lazy("approved"))
    created = time_column("created_at", gettext_lazy("created"))

    @admin.display(description=gettext_lazy("text"))
    def text_start(self, horoscope):
        return user_written(horoscope.text[:80])

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if field is not None and db_field.name.startswith("text"):  # text and its translations (text_ar, text_en)
            field.widget.attrs["dir"] = "auto"
        return field
