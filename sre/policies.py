"""Who may see and change SRE rows: admins run budgets, on-call, incidents and drills; staff read runbooks and incidents."""

from samia.rls.conditions import Mine
from samia.rls.registry import ADMINS, STAFF, allow, declare

BUDGETS_TABLE = "sre_budget"
INCIDENTS_TABLE = "sre_incident"
RUNBOOKS_TABLE = "sre_runbook"
BACKUPS_TABLE = "sre_backup"

BUDGETS = declare(
    "sre.Budget",
    allow("select", ADMINS),
    allow("insert", ADMINS),
    allow("update", ADMINS),
    module=__name__,
)
# Usage and alerts are written by the hourly job (the owner role); admins read them.
BUDGET_USAGES = declare("sre.BudgetUsage", allow("select", ADMINS), module=__name__)
BUDGET_ALERTS = declare("sre.BudgetAlert", allow("select", ADMINS), module=__name__)

for model in ("sre.OnCallShift", "sre.EscalationStep"):
    declare(
        model, *(allow(operation, ADMINS) for operation in ("select", "insert", "update", "delete")), module=__name__
    )

RUNBOOKS = declare(
    "sre.Runbook",
    allow("select", STAFF),
    allow("insert", ADMINS),
    allow("update", ADMINS),
    module=__name__,
)
INCIDENTS = declare(
    "sre.Incident",
    allow("select", STAFF),
    allow("insert", ADMINS, check=Mine("declared_by_id")),
    allow("update", ADMINS),
    module=__name__,
)
POSTMORTEMS = declare(
    "sre.PostMortem",
    allow("select", STAFF),
    allow("insert", ADMINS, check=Mine("written_by_id")),
    allow("update", ADMINS),
    module=__name__,
)
# Snapshots and drills are made by management commands and Beat (the owner role); admins read them.
BACKUPS = declare("sre.Backup", allow("select", ADMINS), module=__name__)
RESTORE_DRILLS = declare("sre.RestoreDrill", allow("select", ADMINS), module=__name__)
