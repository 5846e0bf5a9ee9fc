from celery import shared_task

from samia.events.services import partitions_maintain


@shared_task(name="samia.events.partitions_maintain")
def maintain_partitions() -> dict:
    """Create the coming months' event partitions and drop expired ones (idempotent)."""
    return partitions_maintain()
