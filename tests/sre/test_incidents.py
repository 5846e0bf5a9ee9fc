"""Incidents: declare and page tier 1, escalate on a frozen clock, 409 on an open component, bad input."""

import datetime as dt

import pytest
import time_machine

from notifications.models import Notification
from samia.audit.models import AuditEntry
from samia.rls.registry import Identity
from sre import incidents
from sre.models import Incident, OnCallShift
from tests.conftest import api_as

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 12, 6, 10, 0, tzinfo=dt.UTC)
DECLARE = {"severity": "sev1", "component": "payments", "title": "Card payments failing for Ali's shop"}


@pytest.fixture
def rota(personas, make_user):
    tiers = {1: make_user(role="admin"), 2: make_user(role="admin"), 3: personas["superadmin"]}
    for tier, user in tiers.items():
        OnCallShift.objects.create(
            user=user, tier=tier, starts_at=T0 - dt.timedelta(hours=1), ends_at=T0 + dt.timedelta(days=1)
        )
    return tiers


def _paged(user) -> list[str]:
    return list(Notification.objects.filter(user=user, kind="sre.incident_page").values_list("title", flat=True))


def test_it_declares_pages_tier_one_and_escalates_on_a_frozen_clock(personas, rota):
    with time_machine.travel(T0, tick=False):
        response = api_as(personas["admin"]).post(
            "/admin/incident/declare", {**DECLARE, "runbook": "redis-unavailable"}, format="json"
        )
    assert response.status_code == 201
    incident = Incident.objects.get(pk=response.json()["id"])
    assert (incident.status, incident.tier, incident.runbook.slug) == ("declared", 1, "redis-unavailable")
    assert _paged(rota[1]) == [f"SEV1 incident #{incident.pk}: payments"]
    assert _paged(rota[2]) == []
    entry = AuditEntry.objects.get(action="sre.incident.declare")
    assert entry.details == {"severity": "sev1", "component": "payments", "paged": 1}
    assert "Ali" not in str(entry.details)

    # sev1: tier 2 after 5 minutes without acknowledgement, tier 3 after 15
    with time_machine.travel(T0 + dt.timedelta(minutes=4, seconds=59), tick=False):
        assert incidents.incidents_escalate() == 0
    with time_machine.travel(T0 + dt.timedelta(minutes=5), tick=False):
        assert incidents.incidents_escalate() == 1
        assert incidents.incidents_escalate() == 0
    assert len(_paged(rota[2])) == 1
    with time_machine.travel(T0 + dt.timedelta(minutes=15), tick=False):
        assert incidents.incidents_escalate() == 1
    assert len(_paged(rota[3])) == 1
    assert AuditEntry.objects.filter(action="sre.incident.escalate").count() == 2

    # acknowledged: escalation stops; resolved: the component may have a new incident
    incidents.incident_acknowledge(identity=Identity.of(personas["admin"]), incident_id=incident.pk)
    with time_machine.travel(T0 + dt.timedelta(hours=2), tick=False):
        assert incidents.incidents_escalate() == 0
    incidents.incident_resolve(identity=Identity.of(personas["admin"]), incident_id=incident.pk)
    incidents.postmortem_write(
        identity=Identity.of(personas["admin"]), incident_id=incident.pk, summary="s", root_cause="r", actions="a"
    )
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"sre.incident.acknowledge", "sre.incident.resolve", "sre.postmortem.write"} <= actions
    assert api_as(personas["admin"]).post("/admin/incident/declare", DECLARE, format="json").status_code == 201


def test_it_refuses_a_second_open_incident_on_a_component_with_its_id(personas, rota):
    first = api_as(personas["admin"]).post("/admin/incident/declare", DECLARE, format="json").json()

    response = api_as(personas["superadmin"]).post(
        "/admin/incident/declare", {**DECLARE, "severity": "sev3"}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["error"]["details"] == {"incident_id": first["id"], "status": "declared"}
    assert Incident.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"severity": "sev9"}, "severity"),
        ({"component": "moon"}, "component"),
        ({"title": ""}, "title"),
        ({"runbook": "no-such-runbook"}, "runbook"),
    ],
)
def test_it_refuses_bad_input(personas, change, field):
    response = api_as(personas["admin"]).post("/admin/incident/declare", {**DECLARE, **change}, format="json")

    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == [field]
    assert Incident.objects.count() == 0


@pytest.mark.parametrize(("persona", "expected"), [(None, 401), ("client", 403), ("reader", 403), ("monitor", 403)])
def test_it_lets_only_admins_declare(personas, persona, expected):
    response = api_as(personas.get(persona)).post("/admin/incident/declare", DECLARE, format="json")

    assert response.status_code == expected
    assert Incident.objects.count() == 0


def test_it_lists_runbooks_with_a_cursor_and_opens_one(personas):
    listed = api_as(personas["monitor"]).get("/admin/runbooks?page_size=2")
    one = api_as(personas["admin"]).get("/admin/runbooks/budget-exceeded")

    assert listed.status_code == 200
    assert len(listed.json()["results"]) == 2 and listed.json()["next"]
    assert one.json()["markdown"].startswith("## Symptoms")
    assert api_as(personas["admin"]).get("/admin/runbooks/nope").status_code == 404
    assert api_as(personas["client"]).get("/admin/runbooks").status_code == 403
