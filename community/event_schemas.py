"""Community events: ids and codes only (the registry refuses `comment`, `body` and `text`)."""

from samia.events.registry import Code, register

register(
    "community.comment_posted",
    1,
    required=("comment_id", "order_id", "author_role"),
    comment_id=int,
    order_id=int,
    author_role=Code,
)
register(
    "community.comment_decided",
    1,
    required=("comment_id", "order_id", "decision", "status"),
    comment_id=int,
    order_id=int,
    decision=Code,
    status=Code,
    action_id=int,
)
register("community.reaction_added", 1, required=("order_id", "kind"), order_id=int, kind=Code)
register(
    "community.flag_raised",
    1,
    required=("flag_id", "comment_id", "reason"),
    flag_id=int,
    comment_id=int,
    reason=Code,
)
