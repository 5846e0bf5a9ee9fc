"""What the comment page and the case page's comment panel share: the moderation form, who is offered it."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.db import transaction
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from community import services
from community.models import Comment
from community.policies import COMMENTS_TABLE
from moderation import selectors as moderation_selectors
from samia.exceptions import Conflict
from samia.rls.access import writes
from samia.rls.admin import REFUSALS, service_refusal
from samia.rls.registry import Identity

# The API guard of POST /monitor/community/{id}/moderate: the same declaration decides who is offered the buttons.
MODERATE = writes(COMMENTS_TABLE, "update")
LABELS = {
    "approve": _("Approve"),
    "hide": _("Hide"),
    "remove": _("Remove"),
    "escalate": _("Escalate the case to admins"),
}


class ModerateInput(forms.Form):
    reason = forms.ChoiceField(label=_("Reason"))

    def __init__(self, *args, identity: Identity, **kwargs):
        super().__init__(*args, **kwargs)
        reasons = moderation_selectors.reason_list(identity=identity)
        self.fields["reason"].choices = [(r.code, r.label) for r in reasons]


def moderations(identity: Identity, comment: Comment) -> list[str]:
    """The actions `identity` may take on `comment` now: none on a removed one, never its current decision."""
    if identity.persona not in MODERATE.roles() or comment.status == Comment.Status.REMOVED:
        return []
    return [a for a in LABELS if services.DECISIONS.get(a) != comment.status]


def moderate(modeladmin, request, comment: Comment) -> bool:
    """Take the posted action on `comment` through the service; say what happened, or in words why not."""
    identity = Identity.of(request.user)
    action = request.POST.get("do", "")
    if action not in moderations(identity, comment):
        modeladmin.message_user(request, _("This action is not open to you on this comment now."), messages.ERROR)
        return False
    form = ModerateInput(request.POST, identity=identity)
    if not form.is_valid():
        modeladmin.message_user(request, _("Not done. Choose a reason."), messages.ERROR)
        return False
    try:
        with transaction.atomic():
            comment, done = services.comment_moderate(
                identity=identity,
                comment_id=comment.pk,
                action=action,
                reason_code=form.cleaned_data["reason"],
                evidence=[f"comment:{comment.pk}"],
            )
    except REFUSALS as error:
        reason = service_refusal(error, Comment)
        if reason is None:
            raise
        modeladmin.message_user(request, reason, messages.WARNING if isinstance(error, Conflict) else messages.ERROR)
        return False
    said = _("Comment #%(id)d: %(action)s done, recorded on case #%(case)d; it is now %(status)s.")
    values = {"id": comment.pk, "action": LABELS[action], "case": done.case_id, "status": comment.get_status_display()}
    modeladmin.message_user(request, said % values, messages.SUCCESS)
    return True


def comment_text(value: str):
    """A comment in its own direction: Arabic reads right to left inside an English page, and the reverse."""
    return format_html('<div dir="auto">{}</div>', value) if value else "-"
