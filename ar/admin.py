"""AR assets in the back office: upload, preview, link to an order or a horoscope, remove.

Every step calls the service the API calls, so lineage, refusals, audit and events are the same.
"""

from django import forms
from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from unfold.decorators import display

from ar import lineage, services
from ar.models import ArAsset, ArLink
from samia.backoffice_timezone import time_column
from samia.rls.admin import DeclaredModelAdmin, run_action
from samia.rls.registry import Identity

PREVIEW_STYLE = "max-width: 480px; max-height: 360px"


class AssetUploadForm(forms.ModelForm):
    upload = forms.FileField(
        label=gettext_lazy("File"),
        help_text=gettext_lazy("Type, size, frames and duration are measured from the file, never from its name."),
    )

    class Meta:
        model = ArAsset
        fields = ["kind"]


@admin.register(ArAsset)
class ArAssetAdmin(DeclaredModelAdmin):
    list_display = ["id", "kind", "content_type", "bytes", "frames", "duration_ms", "dimensions", "created", "removed"]
    list_filter = ["kind", "content_type"]
    search_fields = ["=sha256"]
    list_select_related = ["created_by"]
    actions = ["remove_assets"]
    fields = [
        "preview",
        "kind",
        "content_type",
        "bytes",
        "sha256",
        "frame_count",
        "duration_ms",
        "dimensions",
        "created_by",
        "created",
        "removed",
        "links",
    ]

    created = time_column("created_at", gettext_lazy("created"))
    removed = time_column("removed_at", gettext_lazy("removed"))

    @display(description=gettext_lazy("frames"))
    def frames(self, obj):
        return obj.frame_count if obj.frame_count is not None else "-"

    @display(description=gettext_lazy("size (px)"))
    def dimensions(self, obj):
        return f"{obj.width} x {obj.height}" if obj.width else "-"

    @display(description=gettext_lazy("links"))
    def links(self, obj):
        targets = [
            _("order #%(id)s") % {"id": link.order_id}
            if link.order_id
            else _("horoscope #%(id)s") % {"id": link.horoscope_id}
            for link in obj.links.order_by("id")
        ]
        return ", ".join(targets) or _("Not linked.")

    @display(description=gettext_lazy("preview"))
    def preview(self, obj):
        """An image or a video, through a signed URL that expires like any other (and is counted as one)."""
        if obj.removed_at is not None:
            return _("Removed: the file is deleted, its lineage is kept.")
        if obj.content_type not in lineage.IMAGES + lineage.VIDEOS:
            return _("No preview for a 3D model.")
        if not hasattr(obj, "preview_html"):  # the page may render the field more than once: one URL per view
            signed = services.asset_url(identity=obj.viewer, asset_id=obj.pk)
            template = (
                '<video src="{}" style="{}" controls muted loop playsinline preload="metadata"></video>'
                if obj.content_type in lineage.VIDEOS
                else '<img src="{}" style="{}" alt="">'
            )
            obj.preview_html = format_html(template, signed.url, PREVIEW_STYLE)
        return obj.preview_html

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = AssetUploadForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        return ["kind", "upload"] if obj is None else self.fields

    def get_readonly_fields(self, request, obj=None):
        # An asset changes only by removal (the action below): its lineage is what its bytes measured.
        return [] if obj is None else self.fields

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is not None:
            obj.viewer = Identity.of(request.user)  # the preview signs its URL for the person looking
        return obj

    def save_model(self, request, obj, form, change):
        if change:
            return
        asset, created = services.asset_create(
            identity=Identity.of(request.user), kind=form.cleaned_data["kind"], file=form.cleaned_data["upload"]
        )
        if not created:
            self.message_user(request, _("These bytes are already stored as AR asset #%(id)s.") % {"id": asset.pk})
        obj.pk = asset.pk
        obj.__dict__.update(asset.__dict__)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not self.has_change_permission(request):
            actions.pop("remove_assets", None)
        return actions

    @admin.action(description=gettext_lazy("Remove the selected assets (the files are deleted, the lineage stays)"))
    def remove_assets(self, request, queryset):
        identity = Identity.of(request.user)
        run_action(request, queryset, lambda asset: services.asset_remove(identity=identity, asset_id=asset.pk))


class LinkForm(forms.ModelForm):
    class Meta:
        model = ArLink
        fields = ["asset", "order", "horoscope"]

    def clean(self):
        data = super().clean()
        if bool(data.get("order")) == bool(data.get("horoscope")):
            raise forms.ValidationError(_("Choose exactly one: an order or a horoscope."))
        return data


@admin.register(ArLink)
class ArLinkAdmin(DeclaredModelAdmin):
    form = LinkForm
    list_display = ["id", "asset_id", "order_id", "horoscope_id", "created"]
    list_filter = ["asset__kind"]
    search_fields = ["=asset__id", "=order__id"]
    raw_id_fields = ["asset", "order", "horoscope"]

    created = time_column("created_at", gettext_lazy("created"))

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        link, created = services.asset_link(
            identity=Identity.of(request.user),
            asset_id=data["asset"].pk,
            order_id=data["order"].pk if data.get("order") else None,
            horoscope_id=data["horoscope"].pk if data.get("horoscope") else None,
        )
        if not created:
            self.message_user(request, _("This asset was already linked there (link #%(id)s).") % {"id": link.pk})
        obj.pk = link.pk
        obj.__dict__.update(link.__dict__)
