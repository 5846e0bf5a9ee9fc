"""A task through a real Celery worker process, the real Redis broker and the real PostgreSQL."""

import pytest
from django.conf import settings

from samia.celery import app
from samia.jobs.tasks import HEARTBEAT_KEY, heartbeat
from samia.redis import get_redis
from tests.jobs.worker import celery_worker

pytestmark = pytest.mark.django_db

BROKER = "redis://127.0.0.1:6379/15"  # a broker database of its own: no dev worker steals the task


@pytest.fixture
def worker():
    with celery_worker(BROKER) as queue:
        yield queue


def test_it_runs_a_task_through_a_real_worker(worker):
    get_redis().delete(HEARTBEAT_KEY)

    with app.connection_for_write(BROKER) as broker:
        result = heartbeat.apply_async(queue=worker, connection=broker)
    outcome = result.get(timeout=60)

    assert set(outcome) == {"at", "database_now"}
    assert get_redis().get(HEARTBEAT_KEY).decode() == outcome["at"]


def test_it_installs_the_periodic_tasks_by_migration():
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(name="samia.jobs.heartbeat")

    assert (task.task, task.enabled, task.interval.every, task.interval.period) == (
        "samia.jobs.heartbeat",
        True,
        1,
        "minutes",
    )
    assert settings.CELERY_BEAT_SCHEDULER == "django_celery_beat.schedulers:DatabaseScheduler"
