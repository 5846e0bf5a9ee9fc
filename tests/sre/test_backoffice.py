"""The SRE back office: incident actions and budget changes go through audited services; monitors are not offered them."""

import pytest
from django.test import Client

from samia.audit.models import AuditEntry
from sre.models import Budget, Incident, PostMortem
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def _logged_in(user) -> Client:
    client = Client()
    assert client.post("/backoffice/login/", {"username": user.email, "password": PASSWORD}).status_code == 302
    return client


@pytest.fixture
def incident(personas):
    return Incident.objects.create(
        severity="sev2", component="api", title="Slow answers", declared_by=personas["admin"]
    )


def test_an_admin_acknowledges_resolves_and_writes_the_post_mortem(personas, incident):
    client = _logged_in(personas["admin"])
    url = "/backoffice/sre/incident/"

    acknowledged = client.post(url, {"action": "acknowledge", "_selected_action": [incident.pk]})
    again = client.post(url, {"action": "acknowledge", "_selected_action": [incident.pk]}, follow=True)
    resolved = client.post(url, {"action": "resolve", "_selected_action": [incident.pk]})
    written = client.post(
        "/backoffice/sre/postmortem/add/",
        {"incident": incident.pk, "summary": "Slow", "root_cause": "A lock", "actions": "Index it"},
    )

    assert [acknowledged.status_code, resolved.status_code, written.status_code] == [302, 302, 302]
    assert "0 done, 1 refused" in again.content.decode()
    incident.refresh_from_db()
    assert (incident.status, incident.acknowledged_by_id, incident.resolved_by_id) == (
        "resolved",
        personas["admin"].pk,
        personas["admin"].pk,
    )
    assert PostMortem.objects.get().written_by == personas["admin"]
    actions = list(AuditEntry.objects.order_by("id").values_list("action", flat=True))
    assert [a for a in actions if a.startswith("sre.")] == [
        "sre.incident.acknowledge",
        "sre.incident.resolve",
        "sre.postmortem.write",
    ]


def test_an_admin_raises_a_budget_limit_audited(personas):
    budget = Budget.objects.get(metric="sms")
    client = _logged_in(personas["superadmin"])

    response = client.post(
        f"/backoffice/sre/budget/{budget.pk}/change/",
        {"monthly_limit": 50000, "unit_cost": "0.0079", "currency": "USD", "thresholds": "50,80,100"},
    )

    assert response.status_code == 302
    budget.refresh_from_db()
    assert budget.monthly_limit == 50000
    entry = AuditEntry.objects.get(action="sre.budget.change")
    assert (entry.details["metric"], entry.details["monthly_limit"]) == ("sms", 50000)
    assert "monthly_limit" in entry.details["changed"]


def test_a_monitor_reads_incidents_but_is_offered_no_action(personas, incident):
    client = _logged_in(personas["monitor"])

    page = client.get("/backoffice/sre/incident/")
    refused = client.post("/backoffice/sre/incident/", {"action": "resolve", "_selected_action": [incident.pk]})

    assert page.status_code == 200
    assert 'value="resolve"' not in page.content.decode()
    assert refused.status_code in (200, 302, 403)
    incident.refresh_from_db()
    assert incident.status == "declared"
    assert client.get("/backoffice/sre/budget/").status_code == 403


def test_an_admin_declares_an_incident_from_the_back_office_through_the_service(personas):
    client = _logged_in(personas["admin"])

    response = client.post(
        "/backoffice/sre/incident/add/", {"severity": "sev3", "component": "redis", "title": "Evictions", "runbook": ""}
    )

    assert response.status_code == 302
    incident = Incident.objects.get()
    assert (incident.declared_by, incident.tier, incident.status) == (personas["admin"], 1, "declared")
    assert AuditEntry.objects.filter(action="sre.incident.declare").count() == 1
