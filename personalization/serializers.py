"""Inputs and outputs of the personalization API: ids, codes, numbers and dates only, never text."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from drf_spectacular.utils import inline_serializer
from rest_framework import serializers

from personalization.models import DailyMetrics, Evaluation, ModelKind, Surface, Variant
from personalization.selectors import MAX_K
from personalization.services import business_day

MAX_CANDIDATES = 500
MAX_RANGE_DAYS = 366
DEFAULT_RANGE_DAYS = 30
EARLIEST_DAY = dt.date(2000, 1, 1)
# What an item and a model version look like in a response (the schema walk checks them).
ITEM_PATTERN = r"^(reader|campaign):[1-9][0-9]{0,17}$|^service:[a-z][a-z_]{0,15}$"
VERSION_PATTERN = r"^(bm25|als)-[0-9a-f]{16}$"


class PreferenceSerializer(serializers.Serializer):
    opted_out = serializers.BooleanField(help_text="True: rankings use your cohort's popularity, not your history.")
    recorded_at = serializers.DateTimeField(allow_null=True, help_text="When you last chose; null: never.")


class RecommendSerializer(serializers.Serializer):
    user_id = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    surface = serializers.ChoiceField(choices=Surface.choices)
    k = serializers.IntegerField(min_value=1, max_value=MAX_K, default=10)
    candidates = serializers.ListField(
        child=serializers.CharField(max_length=40),
        max_length=MAX_CANDIDATES,
        required=False,
        help_text="Typed ids of the surface's type (reader:<id>, service:<code>, campaign:<id>); "
        "default: every item the surface may rank for the user.",
    )


class RankedSerializer(serializers.Serializer):
    items = serializers.ListField(child=serializers.RegexField(ITEM_PATTERN), help_text="Best first.")
    model_version = serializers.RegexField(VERSION_PATTERN, allow_null=True, help_text="Null: popularity ranked.")
    bucket = serializers.IntegerField(allow_null=True, min_value=0, max_value=9999, help_text="Null: no experiment.")


class MetricsQuerySerializer(serializers.Serializer):
    """from/to: ISO dates, inclusive business days (default: the last 30 days)."""

    def validate(self, attrs):
        today = business_day(timezone.now())
        last = attrs.get("to") or today
        if last < EARLIEST_DAY or last > today + dt.timedelta(days=MAX_RANGE_DAYS):
            # Checked before any arithmetic: 0001-01-01 minus a day is an OverflowError, not a 400.
            raise serializers.ValidationError({"to": [f"Days lie between {EARLIEST_DAY} and a year from today."]})
        first = attrs.get("from") or max(EARLIEST_DAY, last - dt.timedelta(days=DEFAULT_RANGE_DAYS - 1))
        if first < EARLIEST_DAY or first > today + dt.timedelta(days=MAX_RANGE_DAYS):
            raise serializers.ValidationError({"from": [f"Days lie between {EARLIEST_DAY} and a year from today."]})
        if last < first:
            raise serializers.ValidationError({"to": ["Must not be before from."]})
        if (last - first).days + 1 > MAX_RANGE_DAYS:
            raise serializers.ValidationError({"to": [f"The range spans at most {MAX_RANGE_DAYS} days."]})
        return {"first": first, "last": last}


# `from` is a Python keyword: the query fields are added by name.
MetricsQuerySerializer._declared_fields.update(
    {
        "from": serializers.DateField(required=False, help_text="First business day (default: 29 days before to)."),
        "to": serializers.DateField(required=False, help_text="Last business day, inclusive (default: today)."),
    }
)


class DailyMetricsSerializer(serializers.ModelSerializer):
    variant = serializers.ChoiceField(choices=Variant.choices)

    class Meta:
        model = DailyMetrics
        fields = [
            "id",
            "day",
            "experiment_id",
            "variant",
            "reader_id",
            "exposures",
            "orders",
            "listen_throughs",
            "notification_clicks",
        ]


class EvaluationSerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=ModelKind.choices)
    model_version = serializers.RegexField(VERSION_PATTERN, source="model.version", allow_null=True, default=None)

    class Meta:
        model = Evaluation
        fields = [
            "id",
            "kind",
            "model_version",
            "evaluated_at",
            "split_at",
            "users",
            "catalogue",
            "ndcg_at_10",
            "hr_at_10",
            "coverage",
            "popularity_ndcg_at_10",
            "popularity_hr_at_10",
            "popularity_coverage",
        ]


def metrics_page():
    """A cursor page of daily metrics rows, with the offline evaluations of the range (admins only)."""
    return inline_serializer(
        "PersonalizationMetricsPage",
        {
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": DailyMetricsSerializer(many=True),
            "offline": EvaluationSerializer(many=True, help_text="Admins: the evaluations run in the range."),
        },
    )
