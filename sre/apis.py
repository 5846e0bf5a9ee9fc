import hmac

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response

from samia.api import ApiView
from samia.errors import error_body
from samia.rls.access import Open, reads, writes
from samia.schema import CURSOR_PARAMETERS, error_responses, paginated
from sre import budgets, exposition, health, incidents
from sre import serializers as s
from sre.policies import BACKUPS_TABLE, BUDGETS_TABLE, INCIDENTS_TABLE, RUNBOOKS_TABLE


class BudgetView(ApiView):
    access = {"GET": reads(BUDGETS_TABLE)}

    @extend_schema(responses={200: s.BudgetListSerializer, **error_responses(401, 403)}, summary="Budgets this month")
    def get(self, request):
        now = timezone.now()
        states = budgets.budget_states(identity=self.identity, now=now)
        return Response(s.BudgetListSerializer({"month": f"{now:%Y-%m}", "budgets": states}).data)


class HealthOverviewView(ApiView):
    # Admins read every table the checks touch (Beat's schedule, exports, budgets, backups, drills).
    access = {"GET": reads(BACKUPS_TABLE)}

    @extend_schema(
        responses={(200, "application/health+json"): s.HealthOverviewSerializer, **error_responses(401, 403)},
        summary="Health overview: every check as pass, warn or fail",
    )
    def get(self, request):
        body = health.health_overview(identity=self.identity)
        return JsonResponse(body, content_type="application/health+json")


class PrometheusView(ApiView):
    access = {"GET": Open("metrics scrape: its own bearer token, compared in constant time")}
    authentication_classes: list = []

    @extend_schema(
        responses={
            (200, "text/plain"): OpenApiResponse(OpenApiTypes.STR, description="Prometheus text exposition."),
            **error_responses(401),
        },
        auth=[],
        summary="Prometheus metrics (Authorization: Bearer SRE_PROMETHEUS_TOKEN)",
    )
    def get(self, request):
        expected = settings.SRE_PROMETHEUS_TOKEN
        given = request.headers.get("Authorization", "")
        # Without a configured token nobody can scrape: the same 401, saying why.
        if not expected or not hmac.compare_digest(given.encode(), f"Bearer {expected}".encode()):
            message = "The scrape token is missing or wrong." if expected else "No scrape token is configured."
            response = JsonResponse(error_body("not_authenticated", message), status=401)
            response["WWW-Authenticate"] = 'Bearer realm="prometheus"'
            return response
        payload, content_type = exposition.scrape()
        return HttpResponse(payload, content_type=content_type)


class IncidentDeclareView(ApiView):
    access = {"POST": writes(INCIDENTS_TABLE, "insert")}

    @extend_schema(
        request=s.IncidentDeclareSerializer,
        responses={201: s.IncidentSerializer, **error_responses(400, 401, 403, 409)},
        summary="Declare an incident and page the tier-1 on-call person",
    )
    def post(self, request):
        data = self.parse(s.IncidentDeclareSerializer, request.data)
        incident = incidents.incident_declare(identity=self.identity, **data)
        return Response(s.IncidentSerializer(incident).data, status=status.HTTP_201_CREATED)


class RunbookListView(ApiView):
    access = {"GET": reads(RUNBOOKS_TABLE)}

    @extend_schema(
        parameters=CURSOR_PARAMETERS,
        responses={200: paginated(s.RunbookListSerializer), **error_responses(401, 403, 404)},
        summary="Runbooks",
    )
    def get(self, request):
        return self.paginated(incidents.runbook_list(identity=self.identity), s.RunbookListSerializer, ordering="id")


class RunbookView(ApiView):
    access = {"GET": reads(RUNBOOKS_TABLE)}

    @extend_schema(responses={200: s.RunbookSerializer, **error_responses(401, 403, 404)}, summary="One runbook")
    def get(self, request, slug: str):
        return Response(s.RunbookSerializer(incidents.runbook_get(identity=self.identity, slug=slug)).data)
