"""Who may read the audit trail. Anyone's request may append its own entries; nobody changes them."""

from samia.rls.conditions import Equals, IsNull, Mine, OneOf
from samia.rls.registry import ADMINS, PUBLIC, ROLES, allow, declare

# Monitors read the moderation part of the trail.
MONITOR_FAMILIES = ("moderation",)

AUDIT = declare(
    "audit.AuditEntry",
    # A signed-in caller writes entries in its own name; an anonymous one (a failed login) in nobody's.
    allow("insert", ROLES, check=Mine("actor_id")),
    allow("insert", PUBLIC, check=IsNull("actor_id") & Equals("actor_role", "anonymous")),
    allow("select", ADMINS),
    allow("select", "monitor", OneOf("family", MONITOR_FAMILIES)),
    module=__name__,
)

# Admins sign checkpoints (POST /admin/audit/attest) in their own name.
CHECKPOINTS = declare(
    "audit.AuditCheckpoint",
    allow("select", ADMINS),
    allow("insert", ADMINS, check=Mine("signed_by_id")),
    module=__name__,
)
ANCHORS = declare("audit.AuditAnchor", allow("select", ADMINS), module=__name__)
# Exports are written by the monthly job and operators' commands (owner role); admins read them.
EXPORTS = declare("audit.AuditExport", allow("select", ADMINS), module=__name__)
