"""The personalization API: a user's opt-out, staff rankings (ids only) and the metrics."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response

from personalization import selectors, services
from personalization import serializers as s
from personalization.policies import DAILY_METRICS_TABLE, PREFERENCES_TABLE, RANKING_LOG_TABLE
from samia.api import ApiView
from samia.rls.access import reads, writes
from samia.schema import CURSOR_PARAMETERS, error_responses


class MyPersonalizationView(ApiView):
    access = {"GET": reads(PREFERENCES_TABLE)}

    @extend_schema(
        responses={200: s.PreferenceSerializer, **error_responses(401)},
        summary="Whether my rankings use my history (opted in) or my cohort's popularity (opted out)",
    )
    def get(self, request):
        return Response(s.PreferenceSerializer(selectors.preference_current(identity=self.identity)).data)


class _PreferenceChangeView(ApiView):
    access = {"POST": writes(PREFERENCES_TABLE, "insert")}
    opted_out: bool

    def post(self, request):
        services.preference_record(identity=self.identity, opted_out=self.opted_out)
        current = selectors.preference_current(identity=self.identity)
        return Response(s.PreferenceSerializer(current).data, status=status.HTTP_201_CREATED)


class OptOutView(_PreferenceChangeView):
    opted_out = True

    @extend_schema(
        request=None,
        responses={201: s.PreferenceSerializer, **error_responses(401)},
        summary="Opt out of personalization: from the next night on, none of my interactions are kept for it",
    )
    def post(self, request):
        return super().post(request)


class OptInView(_PreferenceChangeView):
    opted_out = False

    @extend_schema(
        request=None,
        responses={201: s.PreferenceSerializer, **error_responses(401)},
        summary="Opt back in to personalization",
    )
    def post(self, request):
        return super().post(request)


class RecommendView(ApiView):
    access = {"POST": writes(RANKING_LOG_TABLE, "insert")}

    @extend_schema(
        request=s.RecommendSerializer,
        responses={200: s.RankedSerializer, **error_responses(400, 401, 403, 404)},
        summary="Rank a user's readers, services or notification candidates (ids only; staff)",
    )
    def post(self, request):
        data = self.parse(s.RecommendSerializer, request.data)
        ranking = services.recommend(identity=self.identity, **data)
        return Response(s.RankedSerializer(ranking).data)


class MetricsView(ApiView):
    access = {"GET": reads(DAILY_METRICS_TABLE)}

    @extend_schema(
        parameters=[
            OpenApiParameter("from", str, description="First business day, ISO date (default: 29 days before to)."),
            OpenApiParameter("to", str, description="Last business day, ISO date, inclusive (default: today)."),
            *CURSOR_PARAMETERS,
        ],
        responses={200: s.metrics_page(), **error_responses(400, 401, 403)},
        summary="Personalization metrics per day, experiment, variant and reader (a reader: their own rows)",
    )
    def get(self, request):
        query = self.parse(s.MetricsQuerySerializer, request.query_params)
        rows = selectors.metrics_list(identity=self.identity, **query)
        response = self.paginated(rows, s.DailyMetricsSerializer, ordering=("day", "id"))
        offline = selectors.evaluation_list(identity=self.identity, **query)
        response.data["offline"] = s.EvaluationSerializer(offline, many=True).data
        return response
