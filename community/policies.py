"""Who may see and write community rows: nobody while the `community` switch is off."""

from samia.marketplace.policies import ORDER_TABLE
from samia.rls.conditions import Equals, FeatureOn, Mine, Via
from samia.rls.registry import PUBLIC, STAFF, allow, declare

COMMENTS_TABLE = "community_comment"
REACTIONS_TABLE = "community_reaction"
FLAGS_TABLE = "community_communityflag"
PARTIES = ("client", "reader")

# Every rule starts with the switch: off means absent, in Postgres as in the API.
ON = FeatureOn("community")
PUBLIC_ON = FeatureOn("community_public")
DELIVERED = Equals("status", "delivered")
MY_ORDER = Via("order_id", ORDER_TABLE, Mine("client_id") | Mine("reader_id"))
APPROVED = Equals("status", "approved")


def _party_insert(role: str, column: str):
    """A pending comment, in one's own name and role, on a delivered order one is the `column` of."""
    return allow(
        "insert",
        role,
        check=ON
        & Mine("author_id")
        & Equals("author_role", role)
        & Equals("status", "pending")
        & Via("order_id", ORDER_TABLE, Mine(column) & DELIVERED),
    )


COMMENTS = declare(
    "community.Comment",
    allow("select", PARTIES, ON & (Mine("author_id") | (APPROVED & MY_ORDER))),
    allow("select", STAFF, ON),
    allow("select", PUBLIC, ON & PUBLIC_ON & APPROVED),
    _party_insert("client", "client_id"),
    _party_insert("reader", "reader_id"),
    # Moderation: a trigger (community.sql.COMMENT_GUARD) lets staff change the decision columns only.
    allow("update", STAFF, using=ON, check=ON),
    module=__name__,
)

REACTIONS = declare(
    "community.Reaction",
    allow("select", PARTIES, ON & MY_ORDER),
    allow("select", STAFF, ON),
    allow(
        "insert",
        PARTIES,
        check=ON & Mine("user_id") & Via("order_id", ORDER_TABLE, (Mine("client_id") | Mine("reader_id")) & DELIVERED),
    ),
    module=__name__,
)

FLAGS = declare(
    "community.CommunityFlag",
    allow("select", PARTIES, ON & Mine("reporter_id")),
    allow("select", STAFF, ON),
    # A party of the comment's order reports it, as themselves (a comment they can see at all).
    allow("insert", PARTIES, check=ON & Mine("reporter_id") & Via("comment_id", COMMENTS_TABLE, MY_ORDER)),
    module=__name__,
)
