import datetime as dt

from drf_spectacular.utils import inline_serializer
from rest_framework import serializers

from analytics.rollups import business_today
from analytics.selectors import DIMENSIONS, RESULT_FIELDS

MAX_RANGE_DAYS = 366
DEFAULT_RANGE_DAYS = 30
# Metrics exist for no day before the platform, nor far ahead; date arithmetic near year 1 or 9999 overflows.
EARLIEST_DAY = dt.date(2000, 1, 1)
DAYS_AHEAD = 366


class BusinessDayField(serializers.DateField):
    """An ISO date between 2000-01-01 and a year after today (business days)."""

    def to_internal_value(self, value):
        day = super().to_internal_value(value)
        latest = business_today() + dt.timedelta(days=DAYS_AHEAD)
        if not EARLIEST_DAY <= day <= latest:
            raise serializers.ValidationError(f"Must be between {EARLIEST_DAY} and {latest}.")
        return day


class RangeQuerySerializer(serializers.Serializer):
    """from/to (ISO dates, inclusive, business days) and group_by (comma-separated dimensions)."""

    family = ""

    def validate(self, attrs):
        last = attrs.get("to") or business_today()
        first = attrs.get("from") or last - dt.timedelta(days=DEFAULT_RANGE_DAYS - 1)
        if last < first:
            raise serializers.ValidationError({"to": ["Must not be before from."]})
        if (last - first).days + 1 > MAX_RANGE_DAYS:
            raise serializers.ValidationError({"to": [f"The range spans at most {MAX_RANGE_DAYS} days."]})
        group_by = [g for g in (attrs.get("group_by") or "").split(",") if g]
        allowed = DIMENSIONS.get(self.family, {})
        unknown = [g for g in group_by if g not in allowed]
        if unknown or len(set(group_by)) != len(group_by):
            raise serializers.ValidationError(
                {"group_by": [f"Comma-separated, each once, among: {', '.join(allowed) or 'nothing'}."]}
            )
        return {"first": first, "last": last, "group_by": group_by}


def range_query(family: str) -> type[RangeQuerySerializer]:
    """Build the query serializer of one metrics family (`from` is a Python keyword, hence type())."""
    fields = {
        "family": family,
        "from": BusinessDayField(required=False, help_text="First business day (default: 29 days before to)."),
        "to": BusinessDayField(required=False, help_text="Last business day, inclusive (default: today)."),
    }
    if family in DIMENSIONS:
        fields["group_by"] = serializers.CharField(
            required=False,
            allow_blank=True,
            help_text=f"Comma-separated dimensions among: {', '.join(DIMENSIONS[family])}; none = totals.",
        )
    return type(f"{family.capitalize()}MetricsQuery", (RangeQuerySerializer,), fields)


class OverviewQuerySerializer(serializers.Serializer):
    date = BusinessDayField(required=False, help_text="Business day (default: yesterday).")


def metrics_response(family: str):
    return inline_serializer(
        f"{family.capitalize()}Metrics",
        {
            "from": serializers.DateField(),
            "to": serializers.DateField(),
            "group_by": serializers.ListField(child=serializers.CharField()),
            "results": serializers.ListField(
                child=serializers.DictField(),
                help_text=f"One row per group: its dimensions, then {', '.join(RESULT_FIELDS[family])} "
                "(sums over the range; a rate or percentile is null without a denominator).",
            ),
        },
    )


def engagement_response():
    return inline_serializer(
        "EngagementMetrics",
        {
            "from": serializers.DateField(),
            "to": serializers.DateField(),
            "series": serializers.ListField(child=serializers.DictField(), help_text="day, dau, sessions"),
            "active_users": serializers.IntegerField(help_text="Distinct actors over the whole range."),
            "on_last_day": serializers.DictField(help_text="dau, wau, mau, stickiness on `to`"),
            "retention": serializers.ListField(
                child=serializers.DictField(), help_text="cohort_week, size, returned, rates"
            ),
        },
    )
