"""Reads: the current preference, rankings, metrics and evaluations.

`ranked` is the seam other apps call: it reads and never writes. Whoever shows its result records
it with `services.ranking_record` (the API does, for every ranking it answers).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from personalization import policies, sql
from personalization.experiments import bucket, variant_for
from personalization.models import (
    SURFACE_ITEM_TYPE,
    DailyMetrics,
    Evaluation,
    Popularity,
    Preference,
    RankingLog,
    Surface,
    TrainedModel,
    Variant,
)
from personalization.training import Scorer, typed_ids
from samia.accounts.models import User
from samia.rls.registry import Identity

MAX_K = 50
# A typed id per item type: numeric ids for readers and campaigns, a code for services.
ITEM_IDS = {"reader": "[1-9][0-9]{0,17}", "campaign": "[1-9][0-9]{0,17}", "service": "[a-z][a-z_]{0,15}"}
# Newline-separated lists of one type's typed ids, matched in one pass.
ITEM_LISTS = {kind: re.compile(f"{kind}:{ident}(?:\n{kind}:{ident})*") for kind, ident in ITEM_IDS.items()}


@dataclass
class Ranking:
    """A ranking: typed ids best first, with the score and rationale code of each, and why it was chosen."""

    user_id: int
    surface: str
    items: list[str]
    confidences: list[float]
    rationales: list[str]
    reason: str
    model_version: str | None = None
    experiment_id: int | None = None
    variant: str = ""
    bucket: int | None = None
    opted_out: bool = False


def preference_current(*, identity: Identity) -> dict:
    """Return the caller's current choice: opted out or not, and since when (None: never chose)."""
    rows = policies.PREFERENCES.scope(Preference.objects.all(), identity).filter(user_id=identity.user_id)
    latest = rows.order_by("-recorded_at", "-id").values("opted_out", "recorded_at").first()
    return latest or {"opted_out": False, "recorded_at": None}


_SCORERS: dict[str, Scorer] = {}
_SCORERS_LOCK = threading.Lock()


def scorer_for(model: TrainedModel) -> Scorer:
    """Return the loaded model, read from private storage once per process and checked against its sha256."""
    with _SCORERS_LOCK:
        scorer = _SCORERS.get(model.sha256)
        if scorer is None:
            with model.artifact.open("rb") as artifact:
                scorer = Scorer.from_bytes(model.kind, artifact.read(), model.sha256)
            _SCORERS.clear()  # keep one model in memory: the newest
            _SCORERS[model.sha256] = scorer
        return scorer


def candidates_default(*, surface: str, user_id: int) -> list[str]:
    """Every item the surface may rank for the user: active readers, active services, or the draft and
    scheduled campaigns whose audience includes the user."""
    with connection.cursor() as cursor:
        if surface == Surface.READERS:
            cursor.execute(
                "SELECT id FROM accounts_user WHERE role = 'reader' AND is_active AND blocked_at IS NULL ORDER BY id"
            )
            return [f"reader:{row[0]}" for row in cursor.fetchall()]
        if surface == Surface.SERVICES:
            cursor.execute("SELECT code FROM marketplace_service WHERE is_active ORDER BY code")
            return [f"service:{row[0]}" for row in cursor.fetchall()]
        cursor.execute(sql.CAMPAIGN_CANDIDATES, {"user_id": user_id, "now": timezone.now()})
        return [f"campaign:{row[0]}" for row in cursor.fetchall()]


def _validate(surface: str, k: int, candidates: list[str] | None) -> str:
    if surface not in Surface.values:
        raise ValidationError({"surface": [f"One of {', '.join(Surface.values)}."]})
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K:
        raise ValidationError({"k": [f"An integer from 1 to {MAX_K}."]})
    item_type = SURFACE_ITEM_TYPE[surface]
    if candidates:
        # One match over the joined list (thousands of candidates): each line must be one typed id.
        try:
            joined = "\n".join(candidates)
        except TypeError:
            joined = None
        pattern = ITEM_LISTS[item_type]
        if joined is None or joined.count("\n") != len(candidates) - 1 or not pattern.fullmatch(joined):
            raise ValidationError({"candidates": [f"Each candidate of surface {surface} is a {item_type}:<id>."]})
    return item_type


def _popularity(user_id: int, country: str, cohort: str | None, item_type: str) -> tuple[dict[str, float], str]:
    """Scores from the most specific scope with enough users (cohort, country, everyone), and its code."""
    scopes = [f"cohort:{cohort}"] if cohort else []
    scopes += [f"country:{country}", "all"]
    sizes = dict(Popularity.objects.filter(item="", scope__in=scopes).values_list("scope", "users"))
    chosen = next(
        (s for s in scopes if s == "all" or sizes.get(s, 0) >= settings.PERSONALIZATION_COHORT_MIN_USERS), "all"
    )
    size = sizes.get(chosen) or 1
    rows = Popularity.objects.filter(scope=chosen, item__startswith=f"{item_type}:").values_list("item", "users")
    code = {"all": "popular_in:all", f"country:{country}": f"popular_in:{country}"}.get(chosen, "popular_in:cohort")
    return {item: users / size for item, users in rows}, code


def _order(ids: np.ndarray, scores: np.ndarray, k: int) -> np.ndarray:
    """Positions of the k best items: score descending, then item id ascending."""
    return np.lexsort((ids, -scores))[:k]


_MODELS: dict[tuple[int, str], TrainedModel] = {}


def _model(model_id: int | None, version: str | None) -> TrainedModel | None:
    """A stored model; its row never changes once written, so it is kept per process by (id, version)."""
    if model_id is None:
        return None
    if (model_id, version) not in _MODELS:
        _MODELS.clear()
        _MODELS[(model_id, version)] = TrainedModel.objects.defer("params", "metrics").get(pk=model_id)
    return _MODELS[(model_id, version)]


def _context(user_id: int, surface: str) -> tuple:
    with connection.cursor() as cursor:
        cursor.execute(
            sql.RANKING_CONTEXT,
            {"user_id": user_id, "surface": surface, "kind": settings.PERSONALIZATION_MODEL_KIND},
        )
        found = cursor.fetchone()
    if found is None:
        raise User.DoesNotExist("No such user.")
    return found


def ranked(*, user_id: int, surface: str, candidates: list[str] | None = None, k: int = 10) -> Ranking:
    """Return the user's top-k candidates for `surface` (ids, confidences, rationale codes); reads only.

    Opted-out users, the popularity variant, users the model has not seen and the time before any
    model is trained get their cohort's popularity. Equal scores are ordered by item id.
    """
    item_type = _validate(surface, k, candidates)
    country, opted_out, cohort, experiment_id, salt, variants, model_id, version = _context(user_id, surface)
    if candidates is None:
        candidates = candidates_default(surface=surface, user_id=user_id)
    items = list(dict.fromkeys(candidates))
    ids = typed_ids(items, item_type)
    ranking = Ranking(user_id=user_id, surface=surface, items=[], confidences=[], rationales=[], reason="")
    ranking.opted_out = opted_out
    if experiment_id is not None and not opted_out:
        ranking.experiment_id = experiment_id
        ranking.bucket = bucket(salt, user_id)
        ranking.variant = variant_for(json.loads(variants) if isinstance(variants, str) else variants, ranking.bucket)
    model = None if opted_out or ranking.variant == Variant.POPULARITY else _model(model_id, version)
    scorer = scorer_for(model) if model else None
    row = scorer.user_row.get(user_id) if scorer else None

    if row is not None and items:
        columns = scorer.columns(item_type, ids)
        all_scores = scorer.scores(np.array([row]))[0]
        scores = np.where(columns >= 0, all_scores[np.maximum(columns, 0)], 0.0)
        top = _order(ids, scores, k)
        known = [i for i in top if columns[i] >= 0 and scores[i] > 0]
        because = dict(zip(known, scorer.because(row, columns[known]), strict=True))
        ranking.rationales = [f"similar_to:{because[i]}" if i in because else "no_signal" for i in top]
        ranking.reason, ranking.model_version = RankingLog.Reason.MODEL, model.version
    else:
        popularity, code = _popularity(user_id, country, cohort, item_type)
        scores = np.array([popularity.get(item, 0.0) for item in items], dtype=np.float64)
        top = _order(ids, scores, k)
        ranking.rationales = [code if scores[i] > 0 else "no_signal" for i in top]
        if opted_out:
            ranking.reason = RankingLog.Reason.OPTED_OUT
        elif ranking.variant == Variant.POPULARITY:
            ranking.reason = RankingLog.Reason.POPULARITY_VARIANT
        else:
            ranking.reason = RankingLog.Reason.COLD_USER if model else RankingLog.Reason.NO_MODEL
    ranking.items = [items[i] for i in top]
    ranking.confidences = [round(float(scores[i]), 6) for i in top]
    return ranking


# ---------------------------------------------------------------------------------------------
# Metrics


def metrics_list(*, identity: Identity, first: dt.date, last: dt.date) -> QuerySet[DailyMetrics]:
    """Return the daily metrics rows of first..last that `identity` may see (a reader: their own)."""
    rows = policies.DAILY_METRICS.scope(DailyMetrics.objects.all(), identity)
    return rows.filter(day__gte=first, day__lte=last)


def evaluation_list(*, identity: Identity, first: dt.date, last: dt.date) -> list[dict]:
    """Return the offline evaluations run on first..last that `identity` may see, newest first."""
    if identity.persona not in policies.EVALUATIONS.roles_for("select"):
        return []
    start = dt.datetime.combine(first, dt.time.min, tzinfo=dt.UTC)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
    rows = policies.EVALUATIONS.scope(Evaluation.objects.all(), identity)
    rows = rows.filter(evaluated_at__gte=start, evaluated_at__lt=end).select_related("model").order_by("-id")
    return list(rows[:100])
