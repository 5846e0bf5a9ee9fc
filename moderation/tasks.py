"""Moderation periodic tasks (installed in Celery Beat by migrations)."""

from celery import shared_task

from moderation import services, sweeps


@shared_task(name="moderation.expire_blocks")
def expire_blocks() -> list[int]:
    """Clear the blocks whose duration is over and record each expiry."""
    return services.blocks_expire()


@shared_task(name="moderation.run_sweeps")
def run_sweeps(rules: list[str] | None = None) -> list[int]:
    """Run today's sweeps (all active rules, or `rules`); return the ids of the cases opened."""
    return [case.pk for case in sweeps.sweeps_run(rules=rules)]


@shared_task(name="moderation.verify_audit")
def verify_audit() -> int | None:
    """Verify the audit chain; return the id of the tamper case when it is damaged."""
    case = services.audit_chain_check()
    return case.pk if case else None


@shared_task(name="moderation.retention_purge")
def retention_purge() -> dict:
    """Purge moderation records past their retention windows."""
    from moderation.retention import retention_purge as purge

    return purge()
