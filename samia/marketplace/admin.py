from django import forms
from django.contrib import admin, messages

from samia.marketplace import services
from samia.marketplace.models import Call, Horoscope, MediaAsset, Order, Payment, Service
from samia.rls.admin import DeclaredModelAdmin
from samia.rls.registry import Identity


@admin.register(Service)
class ServiceAdmin(DeclaredModelAdmin):
    list_display = ["code", "name", "is_premium", "base_price", "currency", "is_active"]
    list_filter = ["is_premium", "is_active"]


def _transition_action(action: str):
    def run(modeladmin, request, queryset):
        done, refused = 0, 0
        for order_id in queryset.values_list("id", flat=True):
            try:
                services.order_transition(identity=Identity.of(request.user), order_id=order_id, action=action)
                done += 1
            except Exception as error:  # report per order, keep going
                refused += 1
                modeladmin.message_user(request, f"Order #{order_id}: {error}", messages.WARNING)
        modeladmin.message_user(request, f"{action}: {done} done, {refused} refused.")

    run.__name__ = f"order_{action}"
    run.short_description = f"{action.capitalize()} selected orders"
    run.allowed_permissions = ("change",)
    return run


@admin.register(Order)
class OrderAdmin(DeclaredModelAdmin):
    list_display = ["id", "service", "status", "is_gold", "client_id", "reader_id", "created_at", "delivered_at"]
    list_filter = ["status", "is_gold", "service"]
    search_fields = ["=id", "=client__id", "=reader__id"]
    date_hierarchy = "created_at"
    ordering = ["-id"]
    list_select_related = ["service"]
    raw_id_fields = ["client", "reader"]
    # The state machine owns status and its stamps; staff move orders with the actions.
    readonly_fields = [
        "held_from",
        "held_at",
        "released_at",
        "client",
        "service",
        "reader",
        "question",
        "status",
        "rejection_reason",
        "created_at",
        "assigned_at",
        "started_at",
        "submitted_at",
        "decided_at",
        "delivered_at",
        "cancelled_at",
    ]
    actions = [_transition_action(a) for a in ("approve", "deliver", "cancel")]


class MediaUploadForm(forms.ModelForm):
    upload = forms.FileField(help_text="Size, sha256, type and duration are measured from the file.")

    class Meta:
        model = MediaAsset
        fields = ["owner", "order", "kind"]


@admin.register(MediaAsset)
class MediaAssetAdmin(DeclaredModelAdmin):
    list_display = ["id", "kind", "content_type", "bytes", "duration_seconds", "owner_id", "order_id", "created_at"]
    list_filter = ["kind", "content_type"]
    search_fields = ["=sha256", "=order__id"]
    raw_id_fields = ["owner", "order"]
    readonly_fields = [
        "storage_key",
        "content_type",
        "bytes",
        "sha256",
        "duration_seconds",
        "created_at",
        "removed_at",
    ]

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
    list_display = ["id", "order_id", "status", "scheduled_at", "answered_at", "ended_at", "dropped_by"]
    list_filter = ["status", "dropped_by"]
    search_fields = ["=order__id"]
    raw_id_fields = ["order", "client", "reader"]
    date_hierarchy = "scheduled_at"


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
    ]
    list_filter = ["provider", "status", "country", "currency"]
    search_fields = ["=order__id", "provider_reference"]
    raw_id_fields = ["order", "fallback_of"]
    readonly_fields = ["created_at", "updated_at"]


@admin.action(description="Approve selected horoscopes", permissions=["change"])
def horoscope_approve(modeladmin, request, queryset):
    from django.utils import timezone

    updated = queryset.exclude(approval_status=Horoscope.Approval.APPROVED).update(
        approval_status=Horoscope.Approval.APPROVED, approved_by=request.user, approved_at=timezone.now()
    )
    modeladmin.message_user(request, f"{updated} horoscope(s) approved.")


@admin.register(Horoscope)
class HoroscopeAdmin(DeclaredModelAdmin):
    list_display = ["id", "sign", "date", "scope", "approval_status", "approved_at"]
    list_filter = ["approval_status", "sign", "scope"]
    date_hierarchy = "date"
    raw_id_fields = ["audio"]
    readonly_fields = ["approved_by", "approved_at", "created_at"]
    actions = [horoscope_approve]
