"""Who may see and change the marketplace rows."""

from samia.marketplace.states import TRANSITIONS
from samia.rls.conditions import Always, DateInUse, Equals, IsNull, Mine, OneOf, Via
from samia.rls.registry import ADMINS, PUBLIC, ROLES, STAFF, allow, declare

ORDER_TABLE = "marketplace_order"
# Which orders a role acts on at all; transitions narrow it by status.
ORDER_SCOPE = {"client": Mine("client_id"), "reader": Mine("reader_id")}
MY_ORDERS = Via("order_id", ORDER_TABLE, Mine("client_id") | Mine("reader_id"))


def _order_updates():
    """One UPDATE rule per role, from the transitions that role may take."""
    rules = []
    for role in ROLES:
        mine = [t for t in TRANSITIONS.values() if role in t.roles]
        if not mine:
            continue
        scope = ORDER_SCOPE.get(role, Always())
        sources = tuple(sorted({s for t in mine for s in t.sources}))
        targets = tuple(sorted({t.target for t in mine}))
        rules.append(
            allow("update", role, using=scope & OneOf("status", sources), check=scope & OneOf("status", targets))
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
    allow("select", "reader", Mine("reader_id")),
    allow("select", STAFF),
    allow("insert", "client", check=Mine("client_id") & Equals("status", "new") & IsNull("reader_id")),
    *_order_updates(),
    module=__name__,
)

MEDIA = declare(
    "marketplace.MediaAsset",
    allow("select", ("client", "reader"), Mine("owner_id") | MY_ORDERS),
    allow("select", STAFF),
    allow("insert", ("client", "reader"), check=Mine("owner_id")),
    allow("insert", ADMINS),
    allow("update", ADMINS),
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
