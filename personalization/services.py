"""Writes: preferences (audited), the record of a ranking (log, exposure, event), experiments."""

from __future__ import annotations

import datetime as dt
import secrets
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from personalization import selectors
from personalization.experiments import validate_variants
from personalization.models import Experiment, Preference, RankingLog, Surface
from samia import audit
from samia.events.services import emit
from samia.rls.registry import Identity


@transaction.atomic
def preference_record(*, identity: Identity, opted_out: bool) -> Preference:
    """Append the caller's choice to opt out of (or back into) personalization, and audit it."""
    preference = Preference(
        user_id=identity.user_id,
        opted_out=opted_out,
        source=Preference.Source.API,
        recorded_by_id=identity.user_id,
    )
    # A plain INSERT through save(force_insert): the caller may read their own rows back.
    preference.save(force_insert=True)
    audit.record(
        action=f"personalization.preference.{'opt_out' if opted_out else 'opt_in'}",
        actor=identity,
        target=("accounts.user", identity.user_id),
        details={"source": Preference.Source.API},
    )
    return preference


def business_day(moment: dt.datetime) -> dt.date:
    """The business day (ANALYTICS_TIMEZONE) of `moment`."""
    return moment.astimezone(ZoneInfo(settings.ANALYTICS_TIMEZONE)).date()


@transaction.atomic
def ranking_record(*, ranking: selectors.Ranking, requested_by: Identity | None) -> RankingLog:
    """Log a ranking that is being shown, and its experiment exposure once per user, experiment and day."""
    now = timezone.now()
    log = RankingLog(
        created_at=now,
        user_id=ranking.user_id,
        surface=ranking.surface,
        reason=ranking.reason,
        model_version=ranking.model_version or "",
        experiment_id=ranking.experiment_id,
        variant=ranking.variant,
        bucket=ranking.bucket,
        items=ranking.items,
        confidences=ranking.confidences,
        rationales=ranking.rationales,
        requested_by_id=requested_by.user_id if requested_by else None,
    )
    log.save(force_insert=True)
    if ranking.experiment_id is not None and not ranking.opted_out:
        day = business_day(now)
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO personalization_exposure (experiment_id, user_id, day, variant, surface) "
                "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (experiment_id, user_id, day) DO NOTHING",
                [ranking.experiment_id, ranking.user_id, day, ranking.variant, ranking.surface],
            )
            first_today = cursor.rowcount == 1
        if first_today:
            emit(
                "personalization.exposed",
                1,
                actor=requested_by,
                subject=("accounts.user", ranking.user_id),
                properties={
                    "experiment_id": ranking.experiment_id,
                    "variant": ranking.variant,
                    "surface": ranking.surface,
                },
                occurred_at=now,
            )
    return log


def recommend(
    *, identity: Identity, user_id: int, surface: str, k: int, candidates: list[str] | None = None
) -> selectors.Ranking:
    """Rank for staff: compute the ranking, then record it (log, exposure)."""
    ranking = selectors.ranked(user_id=user_id, surface=surface, candidates=candidates, k=k)
    ranking_record(ranking=ranking, requested_by=identity)
    return ranking


@transaction.atomic
def experiment_create(*, name: str, surface: str, variants: dict, actor, salt: str | None = None) -> Experiment:
    """Start an experiment on `surface` with its own salt; the surface's previous one stops."""
    if surface not in Surface.values:
        raise ValidationError({"surface": [f"One of {', '.join(Surface.values)}."]})
    try:
        weights = validate_variants(variants)
    except ValueError as error:
        raise ValidationError({"variants": [str(error)]}) from None
    stopped = list(Experiment.objects.filter(surface=surface, active=True).values_list("id", flat=True))
    Experiment.objects.filter(id__in=stopped).update(active=False)
    experiment = Experiment.objects.create(
        name=name, surface=surface, variants=weights, salt=salt or secrets.token_hex(16)
    )
    audit.record(
        action="personalization.experiment.create",
        actor=actor,
        target=("personalization.experiment", experiment.pk),
        details={"surface": surface, "stopped": stopped, **{f"weight_{k}": v for k, v in weights.items()}},
    )
    return experiment
