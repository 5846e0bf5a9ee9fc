"""Gunicorn reads this file from the working directory: Prometheus metrics in multiprocess mode.

Every worker writes its metrics to files in PROMETHEUS_MULTIPROC_DIR (set here before the workers
fork, default var/prometheus); GET /ops/prometheus merges them. The directory is emptied when the
server starts, and a worker that exits has its live gauges dropped (child_exit).
"""

import os
import shutil
from pathlib import Path

MULTIPROC_DIR = Path(
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(Path(__file__).resolve().parent / "var" / "prometheus"))
)


def on_starting(server):
    """Start from an empty directory: a previous run's files would be summed in."""
    shutil.rmtree(MULTIPROC_DIR, ignore_errors=True)
    MULTIPROC_DIR.mkdir(parents=True, exist_ok=True)


def child_exit(server, worker):
    """Drop the exited worker's live gauges; its counters stay in the totals."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
