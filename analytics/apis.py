"""The metrics API: validate the range, read the aggregates through a selector, return JSON."""

import datetime as dt

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from analytics import policies, selectors
from analytics import serializers as s
from analytics.rollups import business_today
from samia.api import ApiView
from samia.rls.access import reads
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


def _family_view(family: str):
    table, selector, who = FAMILIES[family]
    query_serializer = s.range_query(family)

    class MetricsView(ApiView):
        access = {"GET": reads(table)}

        @extend_schema(
            parameters=[query_serializer],
            responses={200: s.metrics_response(family), **error_responses(400, 401, 403)},
            summary=f"Daily {family} metrics over a date range ({who})",
            operation_id=f"metrics_{family}",
        )
        def get(self, request):
            query = self.parse(query_serializer, request.query_params)
            results = selector(
                identity=self.identity, first=query["first"], last=query["last"], group_by=query["group_by"]
            )
            return Response(
                {"from": query["first"], "to": query["last"], "group_by": query["group_by"], "results": results}
            )

    MetricsView.__name__ = f"{family.capitalize()}MetricsView"
    return MetricsView


FAMILY_VIEWS = {family: _family_view(family) for family in FAMILIES}
EngagementQuery = s.range_query("engagement")


class EngagementMetricsView(ApiView):
    access = {"GET": reads(policies.ENGAGEMENT_TABLE)}

    @extend_schema(
        parameters=[EngagementQuery],
        responses={200: s.engagement_response(), **error_responses(400, 401, 403)},
        summary="DAU/WAU/MAU, stickiness and weekly retention cohorts (admins)",
        operation_id="metrics_engagement",
    )
    def get(self, request):
        query = self.parse(EngagementQuery, request.query_params)
        body = selectors.engagement_metrics(identity=self.identity, first=query["first"], last=query["last"])
        return Response({"from": query["first"], "to": query["last"], **body})


class OverviewView(ApiView):
    access = {"GET": reads(policies.ENGAGEMENT_TABLE)}

    @extend_schema(
        parameters=[s.OverviewQuerySerializer],
        responses={200: OpenApiTypes.OBJECT, **error_responses(400, 401, 403)},
        summary="One business day at a glance: every family's totals and rates (admins)",
        operation_id="metrics_overview",
    )
    def get(self, request):
        query = self.parse(s.OverviewQuerySerializer, request.query_params)
        day = query.get("date") or business_today() - dt.timedelta(days=1)
        return Response(selectors.overview(identity=self.identity, day=day))
