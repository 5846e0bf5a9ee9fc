"""Saturation signals: database connections, Celery queue length, the notifications due backlog, heartbeat age.

Connections, queue and heartbeat are read at scrape time (pg_stat_activity, Redis). The due backlog
lives in a table only the owner role reads in full, so the minute job `sre.saturation_sample`
measures it and leaves the figure in Redis for the scrape.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from samia.jobs.tasks import HEARTBEAT_KEY
from samia.redis import get_redis
from sre import metrics

BACKLOG_KEY = "samia:sre:notifications-due-backlog"
CELERY_QUEUES = ("celery",)

CONNECTIONS = """
SELECT coalesce(state, 'other'), count(*) FROM pg_stat_activity
WHERE datname = current_database() GROUP BY 1
"""
DUE_BACKLOG = """
SELECT count(*) FROM notifications_send
WHERE state IN ('planned', 'queued') AND NOT held AND due_at < %s
"""


def heartbeat_age(now: dt.datetime | None = None) -> float | None:
    """Seconds since a worker last ran the heartbeat; None when none ever did (or Redis forgot)."""
    stamp = get_redis().get(HEARTBEAT_KEY)
    if not stamp:
        return None
    return ((now or timezone.now()) - parse_datetime(stamp.decode())).total_seconds()


def queue_lengths() -> dict[str, int]:
    """Tasks waiting in each Celery queue on the broker (a Redis list per queue)."""
    client = get_redis() if settings.CELERY_BROKER_URL == settings.REDIS_URL else None
    if client is None:
        import redis

        client = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=2, socket_connect_timeout=2)
    return {queue: int(client.llen(queue)) for queue in CELERY_QUEUES}


def database_connections() -> tuple[dict[str, int], int]:
    """Connections to this database by state, and the server's max_connections."""
    with connection.cursor() as cursor:
        cursor.execute(CONNECTIONS)
        states = {state: int(count) for state, count in cursor.fetchall()}
        cursor.execute("SELECT current_setting('max_connections')::int")
        return states, cursor.fetchone()[0]


def due_backlog_measure(now: dt.datetime | None = None) -> int:
    """Count sends due more than a minute ago and not yet handed over (owner role); keep it for the scrape."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('notifications_send') IS NOT NULL")
        if not cursor.fetchone()[0]:
            return 0
        cursor.execute(DUE_BACKLOG, [(now or timezone.now()) - dt.timedelta(minutes=1)])
        backlog = int(cursor.fetchone()[0])
    get_redis().set(BACKLOG_KEY, backlog, ex=600)
    return backlog


def due_backlog() -> int | None:
    """The last measured due backlog; None when the minute job has not run lately."""
    value = get_redis().get(BACKLOG_KEY)
    return int(value) if value is not None else None


def saturation_collect() -> None:
    """Set the saturation gauges from their sources, right before a scrape."""
    states, maximum = database_connections()
    for state, count in states.items():
        metrics.DATABASE_CONNECTIONS.labels(state).set(count)
    metrics.DATABASE_CONNECTIONS_MAX.set(maximum)
    for queue, length in queue_lengths().items():
        metrics.QUEUE_LENGTH.labels(queue).set(length)
    backlog = due_backlog()
    if backlog is not None:
        metrics.NOTIFICATIONS_DUE.set(backlog)
    age = heartbeat_age()
    if age is not None:
        metrics.HEARTBEAT_AGE.set(age)
