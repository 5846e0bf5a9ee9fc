"""Who may see and change moderation rows: staff everything, a user their own restrictions and appeals."""

from samia.rls.conditions import Equals, Mine, OneOf, Via
from samia.rls.registry import ADMINS, ROLES, STAFF, allow, declare

ACTIONS_TABLE = "moderation_moderationaction"
APPEALS_TABLE = "moderation_appeal"
CASES_TABLE = "moderation_case"
REASONS_TABLE = "moderation_reasoncode"
LINEAGE_TABLE = "moderation_lineageedge"
SWEEP_RULES_TABLE = "moderation_sweeprule"
SWEEP_COUNTRIES_TABLE = "moderation_sweeprulecountry"
SUBJECTS = ("client", "reader")
# What a monitor may do; lifting a block outright (unblock) and ending a call (calls are updated by
# admins only, marketplace/policies.py) are for admins.
MONITOR_ACTIONS = (
    "block", "hold", "unlist", "release", "remove_media", "escalate", "flag",
    "approve_comment", "hide_comment", "remove_comment",
)  # fmt: skip

REASONS = declare(
    "moderation.ReasonCode",
    # The taxonomy is not secret: a user reads the code of their own restriction.
    allow("select", ROLES),
    allow("insert", ADMINS),
    allow("update", ADMINS),
    module=__name__,
)

CASES = declare(
    "moderation.Case",
    allow("select", STAFF),
    allow("insert", STAFF),
    allow("update", STAFF),
    module=__name__,
)

ACTIONS = declare(
    "moderation.ModerationAction",
    allow("select", SUBJECTS, Mine("subject_id")),
    allow("select", STAFF),
    allow("insert", "monitor", check=Mine("actor_id") & OneOf("action", MONITOR_ACTIONS)),
    allow("insert", ADMINS, check=Mine("actor_id")),
    allow("update", STAFF),
    module=__name__,
)

APPEALS = declare(
    "moderation.Appeal",
    allow("select", SUBJECTS, Mine("subject_id")),
    allow("select", STAFF),
    # The subject appeals an action taken against them, in their own name.
    allow(
        "insert",
        SUBJECTS,
        check=Mine("subject_id")
        & Mine("opened_by_id")
        & Equals("status", "open")
        & Via("action_id", ACTIONS_TABLE, Mine("subject_id")),
    ),
    allow("insert", STAFF, check=Mine("opened_by_id") & Equals("status", "open")),
    allow("update", STAFF),
    module=__name__,
)

# Thresholds: monitors read them, admins tune them. The sweeps themselves run as the service role.
SWEEP_RULES = declare(
    "moderation.SweepRule",
    allow("select", STAFF),
    allow("insert", ADMINS),
    allow("update", ADMINS),
    module=__name__,
)

# Per-country thresholds: as the rules, and admins remove an override they no longer want.
SWEEP_COUNTRIES = declare(
    "moderation.SweepRuleCountry",
    allow("select", STAFF),
    allow("insert", ADMINS),
    allow("update", ADMINS),
    allow("delete", ADMINS),
    module=__name__,
)

# The evidence graph is rebuilt, not edited: staff replace a case's edges when they recompute it.
LINEAGE = declare(
    "moderation.LineageEdge",
    allow("select", STAFF),
    allow("insert", STAFF),
    allow("delete", STAFF),
    module=__name__,
)
