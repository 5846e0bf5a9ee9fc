"""Who may see and change notification rows.

Users read their own history, devices, consents and suppressions; admins run campaigns and read
everything; monitors see escalations only (complaints). Planning and dispatch run as the service
role in jobs; verified webhooks only append to the inbox, which a job processes.
"""

from samia.rls.conditions import Equals, IsNull, Mine, OneOf, Via
from samia.rls.registry import ADMINS, PUBLIC, ROLES, allow, declare

DEVICES_TABLE = "notifications_devicetoken"
CONSENTS_TABLE = "notifications_consent"
SUPPRESSIONS_TABLE = "notifications_suppression"
AUDIENCES_TABLE = "notifications_audience"
CAMPAIGNS_TABLE = "notifications_campaign"
NOTIFICATIONS_TABLE = "notifications_notification"
SENDS_TABLE = "notifications_send"
BOUNCES_TABLE = "notifications_bounce"
INBOX_TABLE = "notifications_webhookevent"
WINDOWS_TABLE = "notifications_conversationwindow"

DEVICES = declare(
    "notifications.DeviceToken",
    allow("select", ROLES, Mine("user_id")),
    allow("insert", ROLES, check=Mine("user_id")),
    allow("update", ROLES, Mine("user_id")),
    allow("select", ADMINS),
    module=__name__,
)

# Append-only: a change of mind is a new row, never an edit.
CONSENTS = declare(
    "notifications.Consent",
    allow("select", ROLES, Mine("user_id")),
    allow("select", ADMINS),
    allow("insert", ROLES, check=Mine("user_id") & Mine("recorded_by_id") & Equals("source", "api")),
    allow("insert", ADMINS, check=Mine("recorded_by_id") & OneOf("source", ("admin", "import"))),
    module=__name__,
)

SUPPRESSIONS = declare(
    "notifications.Suppression",
    allow("select", ROLES, Mine("user_id")),
    allow("select", ADMINS),
    allow("insert", ADMINS, check=Mine("created_by_id") & Equals("source", "manual")),
    allow("update", ADMINS),
    module=__name__,
)

AUDIENCES = declare(
    "notifications.Audience",
    allow("select", ADMINS),
    allow("insert", ADMINS, check=Mine("created_by_id")),
    allow("update", ADMINS),
    module=__name__,
)

CAMPAIGNS = declare(
    "notifications.Campaign",
    allow("select", ADMINS),
    allow("insert", ADMINS, check=Mine("created_by_id")),
    allow("update", ADMINS),
    module=__name__,
)

NOTIFICATIONS = declare(
    "notifications.Notification",
    allow("select", ROLES, Mine("user_id")),
    allow("select", ADMINS),
    allow("insert", ADMINS, check=Mine("created_by_id")),
    module=__name__,
)

SENDS = declare(
    "notifications.Send",
    allow("select", ROLES, Mine("user_id")),
    allow("select", ADMINS),
    allow("select", "monitor", Equals("escalated", True)),
    # Admins plan sends (scheduling a campaign, notifying a user) and pause or cancel them.
    allow("insert", ADMINS),
    allow("update", ADMINS),
    # A draft campaign has no live sends: only what an interrupted schedule left, which its next schedule
    # removes before planning afresh (planning.campaign_schedule). Only planned sends qualify (the state
    # guard lets no send return to planned once it left), so relabelling a send or its campaign to a
    # draft cannot erase what was sent: at most what has not gone out, which admins may cancel anyway.
    allow(
        "delete", ADMINS, Via("campaign_id", CAMPAIGNS_TABLE, Equals("status", "draft")) & Equals("state", "planned")
    ),
    module=__name__,
)

BOUNCES = declare(
    "notifications.Bounce",
    allow("select", ADMINS),
    allow("select", "monitor", Equals("kind", "complaint")),
    module=__name__,
)

# Anyone may knock; the view lets in only what carries a valid signature, and only as a new,
# unprocessed row. Nobody but the job reads it back.
INBOX = declare(
    "notifications.WebhookEvent",
    allow("insert", PUBLIC, check=IsNull("processed_at") & Equals("outcome", "")),
    allow("select", ADMINS),
    module=__name__,
)

WINDOWS = declare("notifications.ConversationWindow", allow("select", ADMINS), module=__name__)

# Where jobs have read up to; jobs move them (service role), admins may look.
CURSORS = declare("notifications.Cursor", allow("select", ADMINS), module=__name__)
