"""Periodic SRE jobs: thin wrappers over the services (idempotent, safe to run twice)."""

from celery import shared_task


@shared_task(name="sre.budgets_evaluate")
def budgets_evaluate() -> int:
    """Meter every budget, forecast the month, alert thresholds crossed (hourly)."""
    from sre import budgets

    return len(budgets.budgets_evaluate())


@shared_task(name="sre.escalate")
def escalate() -> int:
    """Page the next on-call tier for incidents not acknowledged in time (every minute)."""
    from sre import incidents

    return incidents.incidents_escalate()


@shared_task(name="sre.saturation_sample")
def saturation_sample() -> int:
    """Measure the notifications due backlog for the Prometheus scrape (every minute)."""
    from sre import signals

    return signals.due_backlog_measure()


@shared_task(name="sre.backup_snapshot")
def backup_snapshot() -> int:
    """Take the daily snapshot and prune old ones (03:30 UTC)."""
    from sre import backups

    return backups.backup_snapshot().pk
