from celery import shared_task

from analytics.rollups import aggregates_purge, rollup_recent


@shared_task(name="analytics.rollup_nightly")
def rollup_nightly() -> dict:
    """Recompute the late-arrival window of daily aggregates and purge expired ones (idempotent)."""
    result = rollup_recent()
    result["purged"] = aggregates_purge()
    return result
