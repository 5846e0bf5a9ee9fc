"""The back-office moderation queue: bulk assign to me, resolve with a note, reason codes editable by admins."""

import pytest
from django.test import Client

from moderation.models import Case, ReasonCode
from samia.audit.models import AuditEntry
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def _logged_in(user) -> Client:
    client = Client()
    assert client.post("/backoffice/login/", {"username": user.email, "password": PASSWORD}).status_code == 302
    return client


def test_a_monitor_assigns_cases_to_themselves_and_resolves_them_with_a_note(personas, blocked):
    monitor = personas["monitor"]
    Case.objects.filter(pk=blocked.case_id).update(assignee=None, status="open")
    client = _logged_in(monitor)

    page = client.get("/backoffice/moderation/case/?sla=overdue")
    assign = client.post(
        "/backoffice/moderation/case/", {"action": "case_assign_to_me", "_selected_action": [blocked.case_id]}
    )
    empty = client.post(
        "/backoffice/moderation/case/", {"action": "case_resolve", "_selected_action": [blocked.case_id], "note": ""}
    )
    case = Case.objects.get(pk=blocked.case_id)
    assert (case.assignee_id, case.status) == (monitor.pk, "in_review")
    resolve = client.post(
        "/backoffice/moderation/case/",
        {"action": "case_resolve", "_selected_action": [blocked.case_id], "note": "Warned and blocked."},
    )

    assert [r.status_code for r in (page, assign, empty, resolve)] == [200, 302, 302, 302]
    case.refresh_from_db()
    assert (case.status, case.resolution_note, case.resolved_by_id) == ("resolved", "Warned and blocked.", monitor.pk)
    assert AuditEntry.objects.filter(action="moderation.case.resolve").count() == 1
    assert AuditEntry.objects.filter(action="moderation.case.assign").count() == 1


@pytest.mark.parametrize(("role", "expected"), [("monitor", 403), ("admin", 302)])
def test_only_admins_edit_reason_codes(personas, role, expected):
    reason = ReasonCode.objects.get(code="spam")
    client = _logged_in(personas[role])

    response = client.post(
        f"/backoffice/moderation/reasoncode/{reason.pk}/change/",
        {"code": "spam", "label_en": "Spam", "label_ar": "رسائل مزعجة", "severity": "medium", "is_active": "on"},
    )

    assert response.status_code == expected
    reason.refresh_from_db()
    assert reason.severity == ("medium" if expected == 302 else "low")
