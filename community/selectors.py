"""Community reads, scoped by the declarations Postgres enforces."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from community.models import Comment, Reaction
from community.policies import COMMENTS, REACTIONS
from samia.marketplace import selectors as marketplace_selectors
from samia.marketplace.models import Order
from samia.rls.registry import Identity


def comment_get(*, identity: Identity, comment_id: int, operation: str = "select", lock: bool = False) -> Comment:
    """Return the comment `identity` may see (or act on), or raise Comment.DoesNotExist."""
    comments = Comment.objects.select_for_update(of=("self",)) if lock else Comment.objects.all()
    return COMMENTS.get(comments, identity, comment_id, operation=operation, missing="No such comment.")


def thread_comments(*, identity: Identity, order_id: int) -> QuerySet[Comment]:
    """Return the comments of order `order_id`'s thread that `identity` may see; raise Order.DoesNotExist when none.

    A party or staff member sees the thread of an order they see; anyone else only what the public
    rule shows (approved comments, while `community_public` is on), and 404 when that is nothing.
    """
    comments = COMMENTS.scope(Comment.objects.all(), identity).filter(order_id=order_id)
    try:
        marketplace_selectors.order_get(identity=identity, order_id=order_id)
    except Order.DoesNotExist:
        if not comments.exists():
            raise
    return comments


def thread_reactions(*, identity: Identity, order_id: int) -> dict[str, int]:
    """Return how many reactions of each kind order `order_id` has, among those `identity` may see."""
    counts = dict.fromkeys(Reaction.Kind.values, 0)
    rows = (
        REACTIONS.scope(Reaction.objects.all(), identity)
        .filter(order_id=order_id)
        .values("kind")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts.update({row["kind"]: row["n"] for row in rows})
    return counts


def comment_list(*, identity: Identity, status: str | None = None) -> QuerySet[Comment]:
    """Return the comments `identity` may see, newest first (the back office's list)."""
    comments = COMMENTS.scope(Comment.objects.all(), identity)
    return comments.filter(status=status) if status else comments
