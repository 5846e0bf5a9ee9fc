"""Periodic jobs of ops: thin wrappers around the services."""

from celery import shared_task

from ops import services
from samia.secrets import services as secrets


@shared_task(name="ops.providers_probe")
def providers_probe() -> dict:
    """Probe every configured provider and store each last probe (every 60 s)."""
    return services.providers_probe()


@shared_task(name="ops.secrets_rotate_due")
def secrets_rotate_due() -> list[str]:
    """Rotate the generated keys past their period and retire versions past their grace (daily)."""
    return secrets.secrets_rotate_due()
