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

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("user")
    )
    opted_out = models.BooleanField(verbose_name=_("opted out"))
    source = models.CharField(max_length=8, choices=Source.choices, verbose_name=_("source"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(default=timezone.now, verbose_name=_("recorded at"))

    class Meta:
        verbose_name = _("preference")
        verbose_name_plural = _("preferences")
        db_table = "personalization_preference"
        indexes = [models.Index(fields=["user", "-recorded_at", "-id"], name="preference_latest")]

    def __str__(self):
        return f"user {self.user_id} {'opted out' if self.opted_out else 'opted in'}"


class Interaction(models.Model):
    user_id = models.BigIntegerField(verbose_name=_("user ID"))
    item = models.CharField(max_length=40, db_collation="C", verbose_name=_("item"))
    day = models.DateField(verbose_name=_("day"))
    count = models.IntegerField(verbose_name=_("count"))

    class Meta:
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        db_table = "personalization_interaction"
        constraints = [models.UniqueConstraint(fields=["user_id", "item", "day"], name="interaction_key")]

    def __str__(self):
        return f"{self.user_id} {self.item} {self.day}"


class UserCohort(models.Model):
    user_id = models.BigIntegerField(primary_key=True, verbose_name=_("user ID"))
    cohort = models.CharField(
        max_length=120, help_text=_("<time zone>|<country>|<language>|<platform>"), verbose_name=_("cohort")
    )
    country = models.CharField(max_length=2, verbose_name=_("country"))

    class Meta:
        verbose_name = _("user cohort")
        verbose_name_plural = _("user cohorts")
        db_table = "personalization_user_cohort"

    def __str__(self):
        return f"{self.user_id} {self.cohort}"


class Popularity(models.Model):
    scope = models.CharField(
        max_length=130, help_text=_("all, country:<CC> or cohort:<cohort>"), db_collation="C", verbose_name=_("scope")
    )
    item = models.CharField(max_length=40, db_collation="C", verbose_name=_("item"))
    users = models.IntegerField(
        help_text=_("Distinct users of the scope who interacted with the item."), verbose_name=_("users")
    )

    class Meta:
        verbose_name = _("popularity")
        verbose_name_plural = _("popularity")
        db_table = "personalization_popularity"
        constraints = [models.UniqueConstraint(fields=["scope", "item"], name="popularity_key")]

    def __str__(self):
        return f"{self.scope} {self.item} {self.users}"


class TrainedModel(models.Model):
    kind = models.CharField(max_length=8, choices=ModelKind.choices, verbose_name=_("kind"))
    version = models.CharField(
        max_length=24, unique=True, help_text=_("<kind>-<first 16 hex digits of sha256>"), verbose_name=_("version")
    )
    sha256 = models.CharField(
        max_length=64,
        help_text=_("Of the model's arrays and params, not of the file bytes."),
        verbose_name=_("SHA-256"),
    )
    params = models.JSONField(verbose_name=_("params"))
    metrics = models.JSONField(default=dict, blank=True, verbose_name=_("metrics"))
    artifact = models.FileField(upload_to="personalization/models/", max_length=200, verbose_name=_("artifact"))
    users = models.IntegerField(verbose_name=_("users"))
    items = models.IntegerField(verbose_name=_("items"))
    interactions = models.IntegerField(verbose_name=_("interactions"))
    training_seconds = models.FloatField(verbose_name=_("training seconds"))
    trained_at = models.DateTimeField(default=timezone.now, verbose_name=_("trained at"))

    class Meta:
        verbose_name = _("trained model")
        verbose_name_plural = _("trained models")
        db_table = "personalization_model"
        indexes = [models.Index(fields=["kind", "-trained_at", "-id"], name="model_latest")]

    def __str__(self):
        return self.version


class Evaluation(models.Model):
    kind = models.CharField(max_length=8, choices=ModelKind.choices, verbose_name=_("kind"))
    model = models.ForeignKey(
        TrainedModel, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("model")
    )
    evaluated_at = models.DateTimeField(default=timezone.now, verbose_name=_("evaluated at"))
    split_at = models.DateField(
        help_text=_("Train on days before it, test on days from it."), verbose_name=_("split at")
    )
    users = models.IntegerField(
        help_text=_("Test users: with an item first consumed after the split."), verbose_name=_("users")
    )
    catalogue = models.IntegerField(verbose_name=_("catalogue"))
    ndcg_at_10 = models.FloatField(verbose_name=_("NDCG@10"))
    hr_at_10 = models.FloatField(verbose_name=_("HR@10"))
    coverage = models.FloatField(verbose_name=_("coverage"))
    popularity_ndcg_at_10 = models.FloatField(verbose_name=_("popularity NDCG@10"))
    popularity_hr_at_10 = models.FloatField(verbose_name=_("popularity HR@10"))
    popularity_coverage = models.FloatField(verbose_name=_("popularity coverage"))

    class Meta:
        verbose_name = _("evaluation")
        verbose_name_plural = _("evaluations")
        db_table = "personalization_evaluation"

    def __str__(self):
        return f"{self.get_kind_display()} {self.split_at}"


class Experiment(models.Model):
    name = models.CharField(max_length=80, unique=True, verbose_name=_("name"))
    salt = models.CharField(
        max_length=64,
        help_text=_("Its own salt: bucket = sha256('<salt>:<user id>') mod 10000."),
        verbose_name=_("salt"),
    )
    surface = models.CharField(max_length=24, choices=Surface.choices, verbose_name=_("surface"))
    # {"popularity": 5000, "model": 5000}: buckets out of 10000, taken in Variant order.
    variants = models.JSONField(verbose_name=_("variants"))
    active = models.BooleanField(default=True, verbose_name=_("active"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("experiment")
        verbose_name_plural = _("experiments")
        db_table = "personalization_experiment"
        constraints = [
            models.UniqueConstraint(fields=["surface"], condition=Q(active=True), name="experiment_one_active")
        ]

    def __str__(self):
        return self.name


class Exposure(models.Model):
    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="+", verbose_name=_("experiment"))
    user_id = models.BigIntegerField(verbose_name=_("user ID"))
    day = models.DateField(verbose_name=_("day"))
    variant = models.CharField(max_length=12, choices=Variant.choices, verbose_name=_("variant"))
    surface = models.CharField(max_length=24, choices=Surface.choices, verbose_name=_("surface"))

    class Meta:
        verbose_name = _("exposure")
        verbose_name_plural = _("exposures")
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

    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    user_id = models.BigIntegerField(verbose_name=_("user ID"))
    surface = models.CharField(max_length=24, choices=Surface.choices, verbose_name=_("surface"))
    reason = models.CharField(max_length=20, choices=Reason.choices, verbose_name=_("reason"))
    model_version = models.CharField(max_length=24, blank=True, verbose_name=_("model version"))
    experiment_id = models.BigIntegerField(null=True, blank=True, verbose_name=_("experiment ID"))
    variant = models.CharField(max_length=12, blank=True, verbose_name=_("variant"))
    bucket = models.IntegerField(null=True, blank=True, verbose_name=_("bucket"))
    items = ArrayField(models.CharField(max_length=40), verbose_name=_("items"))
    confidences = ArrayField(models.FloatField(), verbose_name=_("confidences"))
    rationales = ArrayField(models.CharField(max_length=64), verbose_name=_("rationales"))
    requested_by_id = models.BigIntegerField(null=True, blank=True, verbose_name=_("requested by ID"))

    class Meta:
        verbose_name = _("ranking log")
        verbose_name_plural = _("ranking logs")
        db_table = "personalization_ranking_log"
        indexes = [
            models.Index(fields=["created_at"], name="ranking_log_created_idx"),
            models.Index(fields=["user_id", "-created_at"], name="ranking_log_user_idx"),
        ]

    def __str__(self):
        return _("ranking #%(id)s %(surface)s %(reason)s") % {
            "id": self.pk,
            "surface": self.get_surface_display(),
            "reason": self.get_reason_display(),
        }


class DailyMetrics(models.Model):
    day = models.DateField(verbose_name=_("day"))
    experiment_id = models.BigIntegerField(verbose_name=_("experiment ID"))
    variant = models.CharField(max_length=12, verbose_name=_("variant"))
    reader_id = models.BigIntegerField(
        null=True, blank=True, help_text=_("Empty: the variant's totals."), verbose_name=_("reader ID")
    )
    exposures = models.IntegerField(default=0, verbose_name=_("exposures"))
    orders = models.IntegerField(default=0, verbose_name=_("orders"))
    listen_throughs = models.IntegerField(default=0, verbose_name=_("listen throughs"))
    notification_clicks = models.IntegerField(default=0, verbose_name=_("notification clicks"))

    class Meta:
        verbose_name = _("daily metrics")
        verbose_name_plural = _("daily metrics")
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
