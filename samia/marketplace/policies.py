"""Who may see and change the marketplace rows."""

from samia.marketplace.states import ALL_TRANSITIONS, READER_VISIBLE
from samia.rls.conditions import Always, DateInUse, Equals, IsNull, Mine, OneOf, Via
from samia.rls.registry import ADMINS, PUBLIC, ROLES, STAFF, allow, declare

ORDER_TABLE = "marketplace_order"
# Which orders a role acts on at all; transitions narrow it by status.
ORDER_SCOPE = {"client": Mine("client_id"), "reader": Mine("reader_id")}
MY_ORDERS = Via("order_id", ORDER_TABLE, Mine("client_id") | Mine("reader_id"))


def _order_updates():
    """One UPDATE rule per role and transition, so a route's guard admits a role only for its own moves."""
    rules = []
    for role in ROLES:
        scope = ORDER_SCOPE.get(role, Always())
        for transition in ALL_TRANSITIONS.values():
            if role in transition.roles:
                rules.append(
                    allow(
                        "update",
                        role,
                        using=scope & OneOf("status", tuple(transition.sources)),
                        check=scope & OneOf("status", tuple(transition.targets)),
                    )
                )
    return rules


SERVICES = declare(
    "marketplace.Service",
    allow("select", PUBLIC),
    allow("insert", ADMINS),
    allow("update", ADMINS),
    module=__name__,
)

ORDERS = declare(
    "marketplace.Order",
    allow("select", "client", Mine("client_id")),
    allow("select", "reader", Mine("reader_id") & OneOf("status", READER_VISIBLE)),
    allow("select", STAFF),
    allow("insert", "client", check=Mine("client_id") & Equals("status", "new") & IsNull("reader_id")),
    *_order_updates(),
    module=__name__,
)

# A client's own keys only; the purge runs as the service role.
ORDER_IDEMPOTENCY_KEYS = declare(
    "marketplace.OrderIdempotencyKey",
    allow("select", "client", Mine("client_id")),
    allow("insert", "client", check=Mine("client_id")),
    allow("update", "client", using=Mine("client_id"), check=Mine("client_id")),
    module=__name__,
)

MEDIA = declare(
    "marketplace.MediaAsset",
    # Removed media keep their lineage row for staff; their owners and parties no longer see them.
    allow("select", ("client", "reader"), (Mine("owner_id") | MY_ORDERS) & IsNull("removed_at")),
    allow("select", STAFF),
    allow("insert", ("client", "reader"), check=Mine("owner_id")),
    allow("insert", ADMINS),
    allow("update", ADMINS),
    # Monitors remove media (moderation); a trigger lets them set removed_at and nothing else.
    allow("update", "monitor", using=IsNull("removed_at"), check=Always()),
    allow("delete", ADMINS),
    module=__name__,
)

CALLS = declare(
    "marketplace.Call",
    allow("select", "client", Mine("client_id")),
    allow("select", "reader", Mine("reader_id")),
    allow("select", STAFF),
    allow("insert", ADMINS),
    allow("update", ADMINS),
    module=__name__,
)

PAYMENTS = declare(
    "marketplace.Payment",
    allow("select", "client", Via("order_id", ORDER_TABLE, Mine("client_id"))),
    allow("select", STAFF),
    allow("insert", ADMINS),
    allow("update", ADMINS),
    module=__name__,
)

HOROSCOPES = declare(
    "marketplace.Horoscope",
    # Anyone, signed in or not: approved horoscopes of a date that is "today" somewhere on Earth.
    allow("select", PUBLIC, Equals("approval_status", "approved") & DateInUse("date")),
    allow("select", "reader", Equals("approval_status", "approved") & DateInUse("date", days_back=60)),
    allow("select", STAFF),
    allow("insert", ADMINS),
    allow("update", ("monitor", *ADMINS)),
    allow("delete", ADMINS),
    module=__name__,
)
