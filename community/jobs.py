"""File community comments and flags on moderation cases (the owner role; a client cannot open a case)."""

from __future__ import annotations

from django.db import transaction

from community.models import Comment, CommunityFlag
from moderation import services as moderation_services

SYSTEM = "system:community.file_cases"
REVIEW_REASON = "community_review"
BATCH = 200


@transaction.atomic
def cases_file(*, batch: int = BATCH) -> dict[str, int]:
    """Open or join the thread's case for each new pending comment, and raise it for each new flag; idempotent."""
    comments = (
        Comment.objects.filter(status=Comment.Status.PENDING, case_id__isnull=True)
        .select_related("order")
        .order_by("id")
        .select_for_update(of=("self",), skip_locked=True)[:batch]
    )
    filed = {"comments": 0, "flags": 0}
    for comment in comments:
        case = moderation_services.case_open(
            actor=SYSTEM,
            subject_id=comment.author_id,
            reason_code=REVIEW_REASON,
            source=moderation_services.Case.Source.COMMUNITY,
            order=comment.order,
            details={"comment_id": comment.pk},
        )
        Comment.objects.filter(pk=comment.pk).update(case_id=case.pk)
        filed["comments"] += 1
    flags = (
        CommunityFlag.objects.filter(case_id__isnull=True)
        .select_related("comment__order", "reason")
        .order_by("id")
        .select_for_update(of=("self",), skip_locked=True)[:batch]
    )
    for flag in flags:
        # The flag's reason raises the thread's case to its severity (or opens one: the comment may be decided).
        case = moderation_services.case_open(
            actor=SYSTEM,
            subject_id=flag.comment.author_id,
            reason_code=flag.reason.code,
            source=moderation_services.Case.Source.COMMUNITY,
            order=flag.comment.order,
            details={"comment_id": flag.comment_id},
        )
        CommunityFlag.objects.filter(pk=flag.pk).update(case_id=case.pk)
        filed["flags"] += 1
    return filed
