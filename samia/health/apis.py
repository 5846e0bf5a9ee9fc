from django.http import JsonResponse
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers

from samia.api import ApiView
from samia.health import checks
from samia.rls.access import Open

_HealthSerializer = inline_serializer(
    "Readiness", {"status": serializers.CharField(), "checks": serializers.DictField(child=serializers.CharField())}
)


class LivenessView(ApiView):
    access = {"GET": Open("health probe")}
    authentication_classes: list = []

    @extend_schema(responses={200: inline_serializer("Liveness", {"status": serializers.CharField()})}, auth=[])
    def get(self, request):
        """Answer while the process is up; touches no dependency."""
        return JsonResponse({"status": "ok"})


class ReadinessView(ApiView):
    access = {"GET": Open("health probe")}
    authentication_classes: list = []

    @extend_schema(responses={200: _HealthSerializer, 503: _HealthSerializer}, auth=[])
    def get(self, request):
        """Report PostgreSQL, Redis, migrations and next month's events partition; 503 when any is not ready."""
        results = checks.readiness()
        ready = all(value == "ok" for value in results.values())
        return JsonResponse(
            {"status": "ok" if ready else "unavailable", "checks": results}, status=200 if ready else 503
        )
