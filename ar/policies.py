"""Who may see and change AR assets and their links."""

from samia.marketplace.policies import ORDER_TABLE
from samia.rls.conditions import IsNull, Mine, Via
from samia.rls.registry import ADMINS, allow, declare

ASSETS_TABLE = "ar_arasset"
LINKS_TABLE = "ar_arlink"
# Links on orders assigned to the reader (the order's own policy narrows further by status).
MY_ASSIGNED_LINKS = Via("order_id", ORDER_TABLE, Mine("reader_id"))

ASSETS = declare(
    "ar.ArAsset",
    # A reader: the assets behind links on their assigned orders, until removed.
    allow(
        "select", "reader", Via("id", LINKS_TABLE, MY_ASSIGNED_LINKS, target_column="asset_id") & IsNull("removed_at")
    ),
    allow("select", ADMINS),
    allow("insert", ADMINS),
    allow("update", ADMINS),
    module=__name__,
)

LINKS = declare(
    "ar.ArLink",
    allow("select", "reader", MY_ASSIGNED_LINKS),
    allow("select", ADMINS),
    allow("insert", ADMINS),
    module=__name__,
)
