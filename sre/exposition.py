"""What GET /ops/prometheus answers: every process's metrics (multiprocess mode under gunicorn) or this one's."""

from __future__ import annotations

import logging
import os

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest, multiprocess

from sre import signals

logger = logging.getLogger(__name__)


def scrape() -> tuple[bytes, str]:
    """Set the saturation gauges, then render the registry (merged across processes when PROMETHEUS_MULTIPROC_DIR is set)."""
    try:
        signals.saturation_collect()
    except Exception as error:  # a scrape still answers with what it has
        logger.warning("saturation not collected", extra={"error": type(error).__name__})
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return generate_latest(registry), CONTENT_TYPE_LATEST
