from sre.models.backups import Backup, RestoreDrill
from sre.models.budgets import Budget, BudgetAlert, BudgetUsage, Metric
from sre.models.incidents import Component, EscalationStep, Incident, OnCallShift, PostMortem, Runbook, Severity

__all__ = [
    "Backup",
    "Budget",
    "BudgetAlert",
    "BudgetUsage",
    "Component",
    "EscalationStep",
    "Incident",
    "Metric",
    "OnCallShift",
    "PostMortem",
    "RestoreDrill",
    "Runbook",
    "Severity",
]
