"""Community reads, scoped by the declarations Postgres enforces."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from community.models import Comment, Reaction
from community.policies import COMMENTS, ON, PARTIES, REACTIONS
from samia.marketplace import selectors as marketplace_selectors
from samia.marketplace.models import Order
from samia.rls.registry import STAFF, Identity


def comment_get(*, identity: Identity, comment_id: int, operation: str = "select", lock: bool = False) -> Comment:
    """Return the comment `identity` may see (or act on), or raise Comment.DoesNotExist."""
    comments = Comment.objects.select_for_update(of=("self",)) if lock else Comment.objects.all()
    return COMMENTS.get(comments, identity, comment_id, operation=operation, missing="No such comment.")


def thread_comments(*, identity: Identity, order_id: int) -> QuerySet[Comment]:
    """Return the comments of order `order_id`'s thread that `identity` may see; raise Order.DoesNotExist when none.

    A party or staff member sees the thread of an order they see; anyone else only what the public
    rule shows (approved comments, while `community_public` is on), and 404 when that is nothing.
    """
    try:
        order = marketplace_selectors.order_get(identity=identity, order_id=order_id)
    except Order.DoesNotExist:
        comments = COMMENTS.scope(Comment.objects.all(), identity).filter(order_id=order_id)
        if not comments.exists():
            raise
        return comments
    # The declaration for an order the caller is party to: ON & (theirs | approved), the order being
    # theirs already (its Via subquery, copied into every clone of the page's query, was a third of
    # the request). Staff: ON. Postgres applies the policies all the same; the parity test compares.
    comments = Comment.objects.filter(order_id=order.pk).filter(ON.q(identity))
    if _party(identity, order.client_id, order.reader_id):
        comments = comments.filter(Q(author_id=identity.user_id) | Q(status=Comment.Status.APPROVED))
    else:
        comments = COMMENTS.scope(comments, identity)
    comments.thread_order_visible = _party(identity, order.client_id, order.reader_id) or identity.persona in STAFF
    return comments


def _party(identity: Identity, client_id: int | None, reader_id: int | None) -> bool:
    return identity.persona in PARTIES and identity.user_id in (client_id, reader_id)


def thread_reactions(*, identity: Identity, order_id: int, visible: bool | None = None) -> dict[str, int]:
    """Return how many reactions of each kind order `order_id` has, among those `identity` may see.

    `visible`: whether `identity` is a party of the order or staff, when the caller already knows
    (thread_sees); otherwise it is looked up.
    """
    counts = dict.fromkeys(Reaction.Kind.values, 0)
    reactions = Reaction.objects.filter(order_id=order_id)
    if visible is None:
        parties = Order.objects.filter(pk=order_id).values_list("client_id", "reader_id").first() or (None, None)
        visible = _party(identity, *parties) or identity.persona in STAFF
    # Parties and staff read every reaction of an order they see: ON alone; anyone else, the declaration.
    reactions = reactions.filter(ON.q(identity)) if visible else REACTIONS.scope(reactions, identity)
    rows = reactions.values("kind").annotate(n=Count("id")).order_by()
    counts.update({row["kind"]: row["n"] for row in rows})
    return counts


def thread_sees(*, identity: Identity, comments: QuerySet[Comment]) -> bool:
    """Tell whether `comments` (from thread_comments) come from an order `identity` is party to or staff of."""
    return getattr(comments, "thread_order_visible", False)


def comment_list(*, identity: Identity, status: str | None = None) -> QuerySet[Comment]:
    """Return the comments `identity` may see, newest first (the back office's list)."""
    comments = COMMENTS.scope(Comment.objects.all(), identity)
    return comments.filter(status=status) if status else comments
