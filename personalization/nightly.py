"""The nightly job: rebuild inputs, evaluate and train both model kinds, fill the daily metrics, purge the log.

It runs as the service role (Celery, management commands), outside RLS, and is safe to run twice:
every table it fills is rebuilt, and a model whose sha256 is already stored is not stored again.
"""

from __future__ import annotations

import datetime as dt
import logging
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.utils import timezone

from personalization import sql
from personalization.evaluation import evaluate
from personalization.models import Evaluation, ModelKind, TrainedModel
from personalization.training import PARAMS, Dataset, to_bytes, train

logger = logging.getLogger(__name__)
METRICS_DAYS = 3  # days the nightly run recomputes, for late events


def _params() -> dict:
    return {"tz": settings.ANALYTICS_TIMEZONE}


def _today() -> dt.date:
    return timezone.now().astimezone(ZoneInfo(settings.ANALYTICS_TIMEZONE)).date()


@transaction.atomic
def inputs_refresh() -> dict:
    """Rebuild interactions (opted-out users dropped), cohorts and popularity from the kernel tables."""
    since = timezone.now() - dt.timedelta(days=settings.PERSONALIZATION_HISTORY_DAYS)
    params = {**_params(), "since": since}
    counts = {}
    with connection.cursor() as cursor:
        for name, clear, fill in (
            ("interactions", sql.INTERACTIONS_CLEAR, sql.INTERACTIONS_FILL),
            ("cohorts", sql.COHORTS_CLEAR, sql.COHORTS_FILL),
            ("popularity", sql.POPULARITY_CLEAR, sql.POPULARITY_FILL),
        ):
            cursor.execute(clear)
            cursor.execute(fill, params)
            counts[name] = cursor.rowcount
    return counts


def interactions_load() -> tuple[list[int], list[str], list[dt.date], list[int]]:
    """Read the interaction rows as columns (user ids, items, days, counts)."""
    with connection.cursor() as cursor:
        cursor.execute(sql.INTERACTIONS_READ)
        rows = cursor.fetchall()
    if not rows:
        return [], [], [], []
    users, items, days, counts = (list(column) for column in zip(*rows, strict=True))
    return users, items, days, counts


def model_store(kind: str, dataset: Dataset, metrics: dict) -> TrainedModel:
    """Train `kind` on every interaction and store it, unless a model with the same sha256 exists."""
    trained = train(kind, dataset)
    existing = TrainedModel.objects.filter(version=trained.version).first()
    if existing is not None:
        return existing
    model = TrainedModel(
        kind=kind,
        version=trained.version,
        sha256=trained.sha256,
        params=dict(PARAMS[kind]),
        metrics=metrics,
        users=len(dataset.users),
        items=len(dataset.items),
        interactions=int(dataset.matrix.nnz),
        training_seconds=round(trained.seconds, 3),
    )
    # Private storage (STORAGES["default"]): never served by a public URL.
    model.artifact.save(f"{trained.version}.npz", ContentFile(to_bytes(trained.arrays)), save=False)
    model.save(force_insert=True)
    return model


def train_all(*, today: dt.date | None = None) -> dict:
    """Evaluate each model kind on a temporal split against popularity, then train it on everything."""
    users, items, days, counts = interactions_load()
    if not users:
        return {"interactions": 0, "models": []}
    split_day = (today or _today()) - dt.timedelta(days=settings.PERSONALIZATION_HOLDOUT_DAYS)
    dataset = Dataset.build(users, items, counts)
    stored = []
    for kind in ModelKind.values:
        found = evaluate(kind, users, items, days, counts, split_day)
        scores = {name: round(float(value), 6) for name, value in found.items() if name not in ("users", "catalogue")}
        with transaction.atomic():
            model = model_store(kind, dataset, {"split_at": split_day.isoformat(), **scores})
            Evaluation.objects.create(
                kind=kind,
                model=model,
                split_at=split_day,
                users=found["users"],
                catalogue=found["catalogue"],
                **scores,
            )
        stored.append(model.version)
    return {"interactions": len(users), "models": stored}


@transaction.atomic
def daily_metrics_fill(*, first: dt.date, last: dt.date) -> int:
    """Recompute personalization_daily_metrics for the business days first..last with one set-based statement."""
    zone = ZoneInfo(settings.ANALYTICS_TIMEZONE)
    params = {
        **_params(),
        "first": first,
        "last": last,
        "start": dt.datetime.combine(first, dt.time.min, tzinfo=zone),
        "end": dt.datetime.combine(last + dt.timedelta(days=1), dt.time.min, tzinfo=zone),
        "through": settings.ANALYTICS_LISTEN_THROUGH_PERCENT,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql.DAILY_METRICS_CLEAR, params)
        cursor.execute(sql.DAILY_METRICS_FILL, params)
        return cursor.rowcount


def ranking_log_purge() -> int:
    """Delete ranking log rows older than PERSONALIZATION_LOG_RETENTION_DAYS."""
    before = timezone.now() - dt.timedelta(days=settings.PERSONALIZATION_LOG_RETENTION_DAYS)
    with connection.cursor() as cursor:
        cursor.execute(sql.RANKING_LOG_PURGE, {"before": before})
        return cursor.rowcount


def run_nightly() -> dict:
    """Run every nightly step in order; each step is idempotent."""
    today = _today()
    result = {"inputs": inputs_refresh()}
    result.update(train_all(today=today))
    result["metrics_rows"] = daily_metrics_fill(first=today - dt.timedelta(days=METRICS_DAYS), last=today)
    result["log_purged"] = ranking_log_purge()
    logger.info("personalization nightly run", extra={"models": result["models"], "rows": result["interactions"]})
    return result
