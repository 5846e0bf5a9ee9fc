"""A real Celery worker process for a test: the test's database, a queue of its own."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import uuid

from django.conf import settings
from django.db import connection


@contextlib.contextmanager
def celery_worker(broker: str | None = None):
    """Run `celery worker` (solo pool) on a fresh queue of `broker` (default: the configured one); yield the queue.

    The worker reads the test's database and settings (tests.settings), so a task sees what the test
    committed. Nothing else consumes that queue: a developer's worker on the same Redis stays out.
    """
    queue = f"test-{uuid.uuid4().hex[:8]}"
    database = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
        "CELERY_BROKER_URL": broker or settings.CELERY_BROKER_URL,
        "CELERY_RESULT_BACKEND": settings.CELERY_RESULT_BACKEND,
    }
    command = [sys.executable, "-m", "celery", "-A", "samia", "worker", "--pool=solo", "-Q", queue]
    command += ["--without-heartbeat", "--without-gossip", "--without-mingle", "--loglevel=WARNING"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        yield queue
    finally:
        process.terminate()
        process.wait(timeout=20)
