"""The translation review queue, the auto-translate toggles and the glossary (admins and superadmins)."""

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import BooleanField, ExpressionWrapper
from django.utils.translation import gettext_lazy as _

from i18n import selectors, services
from i18n.models import FieldPolicy, FieldTranslation, GlossaryTerm
from samia.rls.admin import DeclaredModelAdmin, run_action
from samia.rls.registry import Identity


class StaleFilter(admin.SimpleListFilter):
    title = _("stale")
    parameter_name = "stale"

    def lookups(self, request, model_admin):
        return [("1", _("Source changed since")), ("0", _("Current"))]

    def queryset(self, request, queryset):
        if self.value() in ("0", "1"):
            return queryset.filter(stale=self.value() == "1")
        return queryset


def _review(status: str):
    def action(modeladmin, request, queryset):
        identity = Identity.of(request.user)
        run_action(
            request,
            queryset,
            lambda row: _refused_unless_written(
                services.translation_review(identity=identity, ids=[row.pk], status=status)
            ),
        )

    action.__name__ = f"translations_{status}"
    return action


def _refused_unless_written(answer: dict) -> None:
    item = answer["results"][0]
    if item["result"] != "written":
        raise ValidationError(_("Not changed: %(code)s.") % {"code": item["code"]})


translations_reviewed = admin.action(description=_("Mark reviewed"), permissions=["change"])(_review("reviewed"))
translations_approved = admin.action(description=_("Approve"), permissions=["change"])(_review("approved"))


@admin.register(FieldTranslation)
class FieldTranslationAdmin(DeclaredModelAdmin):
    """The review queue: filter by status (auto first), stale and glossary misses; review or approve in bulk."""

    list_display = [
        "id",
        "model",
        "object_id",
        "field",
        "language",
        "status",
        "is_stale",
        "glossary_miss",
        "translated_at",
    ]
    list_filter = ["status", StaleFilter, "glossary_miss", "language", "model"]
    readonly_fields = [f.name for f in FieldTranslation._meta.fields]
    actions = [translations_reviewed, translations_approved]

    def get_queryset(self, request):
        stale = ExpressionWrapper(selectors.stale_annotation(), output_field=BooleanField())
        return super().get_queryset(request).annotate(stale=stale)

    def get_readonly_fields(self, request, obj=None):
        # A row is the pipeline's record (or one an admin adds for a text staff wrote); it changes by review only.
        return self.readonly_fields if obj is not None else ["reviewed_by", "reviewed_at"]

    @admin.display(boolean=True, description=_("stale"), ordering="stale")
    def is_stale(self, row):
        return row.stale


@admin.register(FieldPolicy)
class FieldPolicyAdmin(DeclaredModelAdmin):
    list_display = ["model", "field", "auto_translate", "review_required"]
    list_editable = ["auto_translate", "review_required"]


@admin.register(GlossaryTerm)
class GlossaryTermAdmin(DeclaredModelAdmin):
    list_display = ["term_en", "term_ar", "protected"]
    list_filter = ["protected"]
    search_fields = ["term_en", "term_ar"]
