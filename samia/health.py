"""Liveness and readiness probes."""

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.views import APIView

from samia.redis import get_redis
from samia.rls.access import Open


def _database() -> str:
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT 1")
    return "ok"


def _redis() -> str:
    get_redis().ping()
    return "ok"


def _migrations() -> str:
    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return "ok" if not pending else f"{len(pending)} unapplied"


def _event_partitions() -> str:
    from samia.events.services import next_month_partition_missing

    missing = next_month_partition_missing()
    return "ok" if missing is None else f"missing {missing}"


CHECKS = {"database": _database, "redis": _redis, "migrations": _migrations, "event_partitions": _event_partitions}

_HealthSerializer = inline_serializer(
    "Readiness", {"status": serializers.CharField(), "checks": serializers.DictField(child=serializers.CharField())}
)


class LivenessView(APIView):
    access = {"GET": Open("health probe")}
    authentication_classes: list = []

    @extend_schema(responses={200: inline_serializer("Liveness", {"status": serializers.CharField()})}, auth=[])
    def get(self, request):
        """Answer while the process is up; touches no dependency."""
        return JsonResponse({"status": "ok"})


class ReadinessView(APIView):
    access = {"GET": Open("health probe")}
    authentication_classes: list = []

    @extend_schema(responses={200: _HealthSerializer, 503: _HealthSerializer}, auth=[])
    def get(self, request):
        """Report PostgreSQL, Redis and migrations; 503 when any is not ready."""
        results = {}
        for name, check in CHECKS.items():
            try:
                results[name] = check()
            except Exception as error:  # a probe reports failures, it does not raise them
                results[name] = f"unavailable ({type(error).__name__})"
        ready = all(value == "ok" for value in results.values())
        return JsonResponse(
            {"status": "ok" if ready else "unavailable", "checks": results}, status=200 if ready else 503
        )
