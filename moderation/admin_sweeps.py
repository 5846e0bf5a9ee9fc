"""Per-country sweep thresholds in the back office: monitors read them, admins add, edit and remove them."""

from django.contrib import admin

from moderation.models import SweepRuleCountry
from samia.rls.admin import DeclaredModelAdmin


@admin.register(SweepRuleCountry)
class SweepRuleCountryAdmin(DeclaredModelAdmin):
    list_display = ["rule", "country", "min_count", "max_rate"]
    list_editable = ["min_count", "max_rate"]
    list_filter = ["rule"]
    search_fields = ["country"]
    fields = ["rule", "country", "min_count", "max_rate"]
