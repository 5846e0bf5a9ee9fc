"""Moderation periodic tasks (installed in Celery Beat by a migration)."""

from celery import shared_task

from moderation import services


@shared_task(name="moderation.expire_blocks")
def expire_blocks() -> list[int]:
    """Clear the blocks whose duration is over and record each expiry."""
    return services.blocks_expire()
