"""Personalization: internal rankings of readers, services and campaigns, computed on the server.

Tables and what they hold (ids, codes and numbers only; no text a client could read):
- Preference: append-only opt-out / opt-in choices; the latest row per user is the current one.
- Interaction: (user, item, day, count) rebuilt nightly from kernel tables; opted-out users have none.
- UserCohort / Popularity: each user's cohort and the per-scope popularity the fallback ranks by.
- TrainedModel: one trained model (kind, params, sha256 of its arrays, offline metrics, artifact file).
- Evaluation: the nightly offline evaluation of a model kind against popularity.
- Experiment / Exposure: sha256-bucketed variants and the first exposure of a user per experiment per day.
- RankingLog: what each ranking returned, with confidences and rationale codes (admins read it).
- DailyMetrics: exposures, orders, listen-throughs and notification clicks per (day, experiment, variant, reader).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Surface(models.TextChoices):
    READERS = "readers", _("Readers")
    SERVICES = "services", _("Services")
    NOTIFICATION_CANDIDATES = "notification_candidates", _("Notification candidates")


# The item type each surface ranks: items are typed ids, `<type>:<id or code>`.
SURFACE_ITEM_TYPE = {
    Surface.READERS: "reader",
    Surface.SERVICES: "service",
    Surface.NOTIFICATION_CANDIDATES: "campaign",
}


class Variant(models.TextChoices):
    POPULARITY = "popularity", _("Popularity")
    MODEL = "model", _("Model")


class ModelKind(models.TextChoices):
    BM25 = "bm25", _("Item-kNN (BM25)")
    ALS = "als", _("ALS")


class Preference(models.Model):
    class Source(models.TextChoices):
        API = "api", _("App / API")
        ADMIN = "admin", _("Staff")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    opted_out = models.BooleanField()
    source = models.CharField(max_length=8, choices=Source.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "personalization_preference"
        indexes = [models.Index(fields=["user", "-recorded_at", "-id"], name="preference_latest")]

    def __str__(self):
        return f"user {self.user_id} {'opted out' if self.opted_out else 'opted in'}"


class Interaction(models.Model):
    user_id = models.BigIntegerField()
    item = models.CharField(max_length=40, db_collation="C")
    day = models.DateField()
    count = models.IntegerField()

    class Meta:
        db_table = "personalization_interaction"
        constraints = [models.UniqueConstraint(fields=["user_id", "item", "day"], name="interaction_key")]

    def __str__(self):
        return f"{self.user_id} {self.item} {self.day}"


class UserCohort(models.Model):
    user_id = models.BigIntegerField(primary_key=True)
    cohort = models.CharField(max_length=120, help_text="<time zone>|<country>|<language>|<platform>")
    country = models.CharField(max_length=2)

    class Meta:
        db_table = "personalization_user_cohort"

    def __str__(self):
        return f"{self.user_id} {self.cohort}"


class Popularity(models.Model):
    scope = models.CharField(max_length=130, help_text="all, country:<CC> or cohort:<cohort>", db_collation="C")
    item = models.CharField(max_length=40, db_collation="C")
    users = models.IntegerField(help_text="Distinct users of the scope who interacted with the item.")

    class Meta:
        db_table = "personalization_popularity"
        constraints = [models.UniqueConstraint(fields=["scope", "item"], name="popularity_key")]

    def __str__(self):
        return f"{self.scope} {self.item} {self.users}"


class TrainedModel(models.Model):
    kind = models.CharField(max_length=8, choices=ModelKind.choices)
    version = models.CharField(max_length=24, unique=True, help_text="<kind>-<first 16 hex digits of sha256>")
    sha256 = models.CharField(max_length=64, help_text="Of the model's arrays and params, not of the file bytes.")
    params = models.JSONField()
    metrics = models.JSONField(default=dict, blank=True)
    artifact = models.FileField(upload_to="personalization/models/", max_length=200)
    users = models.IntegerField()
    items = models.IntegerField()
    interactions = models.IntegerField()
    training_seconds = models.FloatField()
    trained_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "personalization_model"
        indexes = [models.Index(fields=["kind", "-trained_at", "-id"], name="model_latest")]

    def __str__(self):
        return self.version


class Evaluation(models.Model):
    kind = models.CharField(max_length=8, choices=ModelKind.choices)
    model = models.ForeignKey(TrainedModel, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    evaluated_at = models.DateTimeField(default=timezone.now)
    split_at = models.DateField(help_text="Train on days before it, test on days from it.")
    users = models.IntegerField(help_text="Test users: with an item first consumed after the split.")
    catalogue = models.IntegerField()
    ndcg_at_10 = models.FloatField()
    hr_at_10 = models.FloatField()
    coverage = models.FloatField()
    popularity_ndcg_at_10 = models.FloatField()
    popularity_hr_at_10 = models.FloatField()
    popularity_coverage = models.FloatField()

    class Meta:
        db_table = "personalization_evaluation"

    def __str__(self):
        return f"{self.kind} {self.split_at}"


class Experiment(models.Model):
    name = models.CharField(max_length=80, unique=True)
    salt = models.CharField(max_length=64, help_text="Its own salt: bucket = sha256('<salt>:<user id>') mod 10000.")
    surface = models.CharField(max_length=24, choices=Surface.choices)
    # {"popularity": 5000, "model": 5000}: buckets out of 10000, taken in Variant order.
    variants = models.JSONField()
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "personalization_experiment"
        constraints = [
            models.UniqueConstraint(fields=["surface"], condition=Q(active=True), name="experiment_one_active")
        ]

    def __str__(self):
        return self.name


class Exposure(models.Model):
    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="+")
    user_id = models.BigIntegerField()
    day = models.DateField()
    variant = models.CharField(max_length=12, choices=Variant.choices)
    surface = models.CharField(max_length=24, choices=Surface.choices)

    class Meta:
        db_table = "personalization_exposure"
        constraints = [models.UniqueConstraint(fields=["experiment", "user_id", "day"], name="exposure_once_a_day")]

    def __str__(self):
        return f"{self.experiment_id} {self.user_id} {self.day}"


class RankingLog(models.Model):
    class Reason(models.TextChoices):
        MODEL = "model", _("Model")
        POPULARITY_VARIANT = "popularity_variant", _("Popularity variant")
        NO_MODEL = "no_model", _("No trained model")
        COLD_USER = "cold_user", _("No history in the model")
        OPTED_OUT = "opted_out", _("Opted out")

    created_at = models.DateTimeField(default=timezone.now)
    user_id = models.BigIntegerField()
    surface = models.CharField(max_length=24, choices=Surface.choices)
    reason = models.CharField(max_length=20, choices=Reason.choices)
    model_version = models.CharField(max_length=24, blank=True)
    experiment_id = models.BigIntegerField(null=True, blank=True)
    variant = models.CharField(max_length=12, blank=True)
    bucket = models.IntegerField(null=True, blank=True)
    items = ArrayField(models.CharField(max_length=40))
    confidences = ArrayField(models.FloatField())
    rationales = ArrayField(models.CharField(max_length=64))
    requested_by_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        db_table = "personalization_ranking_log"
        indexes = [
            models.Index(fields=["created_at"], name="ranking_log_created_idx"),
            models.Index(fields=["user_id", "-created_at"], name="ranking_log_user_idx"),
        ]

    def __str__(self):
        return f"ranking #{self.pk} {self.surface} {self.reason}"


class DailyMetrics(models.Model):
    day = models.DateField()
    experiment_id = models.BigIntegerField()
    variant = models.CharField(max_length=12)
    reader_id = models.BigIntegerField(null=True, blank=True, help_text="Empty: the variant's totals.")
    exposures = models.IntegerField(default=0)
    orders = models.IntegerField(default=0)
    listen_throughs = models.IntegerField(default=0)
    notification_clicks = models.IntegerField(default=0)

    class Meta:
        db_table = "personalization_daily_metrics"
        constraints = [
            models.UniqueConstraint(
                fields=["day", "experiment_id", "variant", "reader_id"],
                name="personalization_metrics_key",
                nulls_distinct=False,
            )
        ]
        indexes = [models.Index(fields=["reader_id", "day"], name="personalization_reader_day_idx")]

    def __str__(self):
        return f"{self.day} {self.experiment_id} {self.variant} {self.reader_id}"
