"""Marketplace jobs (installed in Celery Beat by migrations; they run as the service role)."""

from celery import shared_task

from samia.marketplace import services


@shared_task(name="marketplace.purge_idempotency_keys")
def purge_idempotency_keys() -> int:
    """Forget order Idempotency-Keys past their 24 hours."""
    return services.idempotency_keys_purge()
