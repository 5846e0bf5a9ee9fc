"""The metrics API: validate the range, read the aggregates through a selector, return JSON."""

import datetime as dt

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers as drf
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics import policies, selectors
from analytics import serializers as s
from analytics.rollups import business_today
from samia.rls.access import reads
from samia.rls.registry import Identity
from samia.schema import error_responses

FAMILIES = {
    # family: (table the route reads, selector, who may call it)
    "fulfillment": (policies.FULFILLMENT_TABLE, selectors.fulfillment_metrics, "admins; readers: their own rows"),
    "moderation": (policies.MODERATION_TABLE, selectors.moderation_metrics, "staff; readers: their own rows"),
    "payments": (policies.PAYMENTS_TABLE, selectors.payment_metrics, "admins"),
    "calls": (policies.CALLS_TABLE, selectors.call_metrics, "admins; readers: their own rows"),
    "content": (policies.CONTENT_TABLE, selectors.content_metrics, "admins"),
    "notifications": (policies.NOTIFICATIONS_TABLE, selectors.notification_metrics, "admins"),
}


def _valid(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _family_view(family: str):
    table, selector, who = FAMILIES[family]
    query_serializer = s.range_query(family)

    class MetricsView(APIView):
        access = {"GET": reads(table)}

        @extend_schema(
            parameters=[query_serializer],
            responses={200: s.metrics_response(family), **error_responses(400, 401, 403)},
            summary=f"Daily {family} metrics over a date range ({who})",
            operation_id=f"metrics_{family}",
        )
        def get(self, request):
            query = _valid(query_serializer, request.query_params)
            results = selector(
                identity=Identity.of(request.user), first=query["first"], last=query["last"], group_by=query["group_by"]
            )
            return Response(
                {"from": query["first"], "to": query["last"], "group_by": query["group_by"], "results": results}
            )

    MetricsView.__name__ = f"{family.capitalize()}MetricsView"
    return MetricsView


FAMILY_VIEWS = {family: _family_view(family) for family in FAMILIES}
EngagementQuery = s.range_query("engagement")


class EngagementMetricsView(APIView):
    access = {"GET": reads(policies.ENGAGEMENT_TABLE)}

    @extend_schema(
        parameters=[EngagementQuery],
        responses={
            200: inline_serializer(
                "EngagementMetrics",
                {
                    "from": drf.DateField(),
                    "to": drf.DateField(),
                    "series": drf.ListField(child=drf.DictField(), help_text="day, dau, sessions"),
                    "active_users": drf.IntegerField(help_text="Distinct actors over the whole range."),
                    "on_last_day": drf.DictField(help_text="dau, wau, mau, stickiness on `to`"),
                    "retention": drf.ListField(child=drf.DictField(), help_text="cohort_week, size, returned, rates"),
                },
            ),
            **error_responses(400, 401, 403),
        },
        summary="DAU/WAU/MAU, stickiness and weekly retention cohorts (admins)",
        operation_id="metrics_engagement",
    )
    def get(self, request):
        query = _valid(EngagementQuery, request.query_params)
        body = selectors.engagement_metrics(
            identity=Identity.of(request.user), first=query["first"], last=query["last"]
        )
        return Response({"from": query["first"], "to": query["last"], **body})


class OverviewView(APIView):
    access = {"GET": reads(policies.ENGAGEMENT_TABLE)}

    @extend_schema(
        parameters=[s.OverviewQuerySerializer],
        responses={200: OpenApiTypes.OBJECT, **error_responses(400, 401, 403)},
        summary="One business day at a glance: every family's totals and rates (admins)",
        operation_id="metrics_overview",
    )
    def get(self, request):
        query = _valid(s.OverviewQuerySerializer, request.query_params)
        day = query.get("date") or business_today() - dt.timedelta(days=1)
        return Response(selectors.overview(identity=Identity.of(request.user), day=day))
