"""Flags and reactions in the back office: read-only (parties write them through the API)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from community.handles import handle
from community.models import CommunityFlag, Reaction
from samia.backoffice_timezone import time_column
from samia.rls.admin import ReadOnlyAdmin


@admin.register(CommunityFlag)
class CommunityFlagAdmin(ReadOnlyAdmin):
    list_display = ["id", "comment_id", "reporter_handle", "reason", "evidence", "created", "case_id"]
    list_select_related = ["reason"]
    search_fields = ["=id", "=comment__id"]
    ordering = ["-id"]
    created = time_column("created_at", _("Flagged"))

    @admin.display(description=_("Reporter"))
    def reporter_handle(self, obj):
        return handle(obj.reporter_id)


@admin.register(Reaction)
class ReactionAdmin(ReadOnlyAdmin):
    list_display = ["id", "order_id", "user_handle", "kind", "created"]
    list_filter = ["kind"]
    search_fields = ["=order__id"]
    ordering = ["-id"]
    created = time_column("created_at", _("Added"))

    @admin.display(description=_("Member"))
    def user_handle(self, obj):
        return handle(obj.user_id)
