"""Kernel periodic tasks."""

from celery import shared_task
from django.db import connection
from django.utils import timezone

from samia.redis import get_redis

HEARTBEAT_KEY = "samia:jobs:heartbeat"


@shared_task(name="samia.jobs.heartbeat", ignore_result=False)
def heartbeat() -> dict:
    """Prove that a worker reaches PostgreSQL and Redis; record when it last did."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT now()")
        database_now = cursor.fetchone()[0]
    stamp = timezone.now().isoformat()
    get_redis().set(HEARTBEAT_KEY, stamp, ex=3600)
    return {"at": stamp, "database_now": database_now.isoformat()}
