from django.urls import path

from sre import apis

urlpatterns = [
    path("admin/budget", apis.BudgetView.as_view(), name="sre-budget"),
    path("admin/health/overview", apis.HealthOverviewView.as_view(), name="sre-health-overview"),
    path("admin/incident/declare", apis.IncidentDeclareView.as_view(), name="sre-incident-declare"),
    path("admin/runbooks", apis.RunbookListView.as_view(), name="sre-runbooks"),
    path("admin/runbooks/<slug:slug>", apis.RunbookView.as_view(), name="sre-runbook"),
    path("ops/prometheus", apis.PrometheusView.as_view(), name="sre-prometheus"),
]
