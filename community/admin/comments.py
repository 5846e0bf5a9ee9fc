"""Comments in the back office: the list, the comment page and the thread panel on a community case's page."""

from __future__ import annotations

from django.contrib import admin, messages
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _

from community import selectors
from community.admin.common import LABELS, ModerateInput, comment_text, moderate, moderations
from community.handles import handle
from community.models import Comment
from samia.backoffice_timezone import time_column
from samia.rls.admin import DeclaredModelAdmin
from samia.rls.registry import Identity

THREAD_TEMPLATE = "community/admin/thread.html"


def thread_rows(identity: Identity, comments) -> list[dict]:
    """Each comment with its handle and the moderation forms `identity` is offered on it."""
    rows = []
    for comment in comments:
        offered = moderations(identity, comment)
        rows.append(
            {
                "comment": comment,
                "handle": handle(comment.author_id),
                "actions": [{"name": name, "label": LABELS[name]} for name in offered],
                "form": ModerateInput(identity=identity, prefix=None) if offered else None,
            }
        )
    return rows


def case_panel(identity: Identity, case):
    """The thread of a community case's order, with the moderation buttons (moderation/targets.py asks)."""
    if case.order_id is None:
        return None
    comments = selectors.comment_list(identity=identity).filter(order_id=case.order_id).order_by("id")
    return THREAD_TEMPLATE, {"thread": thread_rows(identity, comments), "order_id": case.order_id, "back": "case"}


@admin.register(Comment)
class CommentAdmin(DeclaredModelAdmin):
    list_display = ["id", "status", "author_handle", "author_role", "order_id", "created", "case_id"]
    list_filter = ["status", "author_role"]
    search_fields = ["=id", "=order__id", "=case_id"]
    ordering = ["-id"]
    detail_fields = [
        "status", "author_handle", "author_role", "order", "text", "body_sha256", "created", "decided", "decided_by",
        "case_link",
    ]  # fmt: skip

    created = time_column("created_at", _("Posted"))
    decided = time_column("decided_at", _("Decided"))

    @admin.display(description=_("Author"))
    def author_handle(self, obj):
        return handle(obj.author_id)

    @admin.display(description=_("Comment"))
    def text(self, obj):
        return comment_text(obj.body)

    @admin.display(description=_("Case"))
    def case_link(self, obj):
        from django.utils.html import format_html

        if obj.case_id is None:
            return "-"
        url = reverse("admin:moderation_case_change", args=[obj.case_id])
        return format_html('<a href="{}">#{}</a>', url, obj.case_id)

    def get_fields(self, request, obj=None):
        return self.detail_fields

    def get_readonly_fields(self, request, obj=None):
        return self.detail_fields

    def get_urls(self):
        act = path(
            "<path:object_id>/moderate/",
            self.admin_site.admin_view(self.moderate_view),
            name="community_comment_moderate",
        )
        return [act, *super().get_urls()]

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if object_id and request.method == "POST":
            self.message_user(request, _("A comment changes only through its moderation buttons."), messages.WARNING)
            return redirect(request.path)
        comment = self.get_object(request, object_id) if object_id else None
        if comment is not None:
            identity = Identity.of(request.user)
            thread = selectors.comment_list(identity=identity).filter(order_id=comment.order_id).order_by("id")
            extra_context = {
                **(extra_context or {}),
                "show_save": False,
                "show_save_and_continue": False,
                "show_save_and_add_another": False,
                "comment_page": True,
                "thread_panel": (
                    THREAD_TEMPLATE,
                    {"thread": thread_rows(identity, thread), "order_id": comment.order_id},
                ),
            }
        return super().changeform_view(request, object_id, form_url, extra_context)

    def moderate_view(self, request, object_id):
        comment = self.get_object(request, object_id)
        if comment is None or request.method != "POST":
            self.message_user(request, _("No such comment."), messages.ERROR)
            return redirect(reverse("admin:community_comment_changelist"))
        moderate(self, request, comment)
        back = request.POST.get("next", "")
        if back and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
            return redirect(back)
        return redirect(reverse("admin:community_comment_change", args=[comment.pk]))
