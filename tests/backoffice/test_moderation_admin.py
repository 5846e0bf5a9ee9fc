"""The case page (issue 15, items 1, 2, 4, 5): each role is offered what the API guards admit, every button goes
through the services, and a refusal is a message in words, never a server error. Appeals: test_moderation_appeals_admin.
"""

import datetime as dt
import re

import pytest
from django.test import Client
from django.utils import timezone

from moderation import apis, services
from moderation.models import Case, LineageEdge, ModerationAction, ReasonCode
from moderation.policies import ACTIONS_TABLE, CASES_TABLE, LINEAGE_TABLE
from samia.audit.models import AuditEntry
from samia.marketplace.policies import ORDER_TABLE
from samia.rls.access import InsertsRow, StateChange, writes
from samia.rls.registry import Identity
from tests.factories import PASSWORD, OrderFactory

pytestmark = pytest.mark.django_db

STAFF = ["monitor", "admin", "superadmin"]
CASES = "/backoffice/moderation/case/"


def _logged_in(user) -> Client:
    client = Client()
    assert client.post("/backoffice/login/", {"username": user.email, "password": PASSWORD}).status_code == 302
    return client


def _offered(html: str) -> set[str]:
    return set(re.findall(r'<button type="submit" name="do" value="(\w+)"', html))


def _messages(response) -> list[tuple[str, str]]:
    return [(m.level_tag, str(m)) for m in response.context["messages"]] if response.context else []


def _audited(action: str) -> int:
    return AuditEntry.objects.filter(action=action).count()


@pytest.fixture
def order(personas):
    return OrderFactory(client=personas["client"], reader=personas["reader"], status="in_progress")


@pytest.fixture
def case(personas, order):
    """An open case about the client's order, assigned to nobody."""
    now = timezone.now()
    return Case.objects.create(
        subject=personas["client"],
        order=order,
        reason=ReasonCode.objects.get(code="fraud"),
        priority="medium",
        opened_at=now,
        sla_due_at=now + dt.timedelta(hours=24),
        resolution_note="",
    )


def _act(user, case, name, **fields):
    data = {"do": name, **{f"{name}-{key}": value for key, value in fields.items()}}
    return _logged_in(user).post(f"{CASES}{case.pk}/act/", data, follow=True)


def _expected_case_offers(role: str, case: Case, subject_blocked: bool) -> set[str]:
    """The guards' answer: the objects the API routes use, for this case's and order's state."""
    expected = set()
    if role in writes(CASES_TABLE, "update").roles():
        expected.add("assign")
    if role in apis.BlockUserView.access["POST"].roles() and not subject_blocked:
        expected.add("block")
    if role in apis.UnblockUserView.access["POST"].roles() and subject_blocked:
        expected.add("unblock")
    for code, target in (("hold", "on_hold"), ("unlist", "unlisted"), ("escalate", None)):
        guards = [apis.ModerateOrderView.access["POST"], InsertsRow(ACTIONS_TABLE, "action", code)]
        guards.append(
            StateChange(ORDER_TABLE, "status", (case.order.status,), target)
            if target
            else StateChange(CASES_TABLE, "status", (case.status,), "escalated")
        )
        if all(role in guard.roles() for guard in guards):
            expected.add(code)
    if role in apis.LineageRecomputeView.access["POST"].roles() and role in writes(LINEAGE_TABLE, "insert").roles():
        expected.add("lineage")
    if role in StateChange(CASES_TABLE, "status", (case.status,), "resolved").roles():
        expected.add("resolve")
    return expected


# --- what each role is offered ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("blocked", [False, True], ids=["subject-free", "subject-blocked"])
@pytest.mark.parametrize("role", STAFF)
def test_the_case_page_offers_each_role_what_the_guards_admit(personas, case, role, blocked):
    if blocked:
        services.user_block(
            identity=Identity.of(personas["superadmin"]),
            user_id=personas["client"].pk,
            reason_code="fraud",
            duration=None,
            evidence=[],
        )

    html = _logged_in(personas[role]).get(f"{CASES}{case.pk}/change/").content.decode()

    assert _offered(html) == _expected_case_offers(role, case, blocked)
    # a monitor may block but never lift a block; admins may
    assert ("unblock" in _offered(html)) == (blocked and role != "monitor")
    assert 'name="_save"' not in html


def test_a_resolved_case_offers_nothing_but_the_evidence_graph(personas, case):
    services.case_resolve(identity=Identity.of(personas["monitor"]), case_id=case.pk, note="Done.")

    html = _logged_in(personas["monitor"]).get(f"{CASES}{case.pk}/change/").content.decode()

    assert _offered(html) == {"lineage"}


def test_a_held_order_offers_release_and_unlist_not_hold(personas, case):
    services.order_moderate(
        identity=Identity.of(personas["monitor"]),
        order_id=case.order_id,
        action="hold",
        reason_code="fraud",
        evidence=[],
    )

    offered = _offered(_logged_in(personas["monitor"]).get(f"{CASES}{case.pk}/change/").content.decode())

    assert {"release", "unlist"} <= offered
    assert "hold" not in offered


# --- each button does what it says -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", STAFF)
def test_assign_to_me_assigns_the_case_and_audits_it(personas, case, role):
    response = _act(personas[role], case, "assign")

    case.refresh_from_db()
    assert (case.assignee_id, case.status) == (personas[role].pk, "in_review")
    assert _audited("moderation.case.assign") == 1
    assert _messages(response) == [("success", "The case is assigned to you.")]


@pytest.mark.parametrize("role", STAFF)
def test_block_the_subject_records_an_action_and_blocks_them(personas, case, role):
    response = _act(personas[role], case, "block", reason="harassment", days="3")

    client = personas["client"]
    client.refresh_from_db()
    action = ModerationAction.objects.get(action="block", subject=client)
    assert client.is_blocked
    assert (action.actor_id, action.reason.code, action.duration, action.evidence) == (
        personas[role].pk,
        "harassment",
        dt.timedelta(days=3),
        [f"case:{case.pk}"],
    )
    assert _audited("moderation.user.block") == 1
    assert _messages(response)[0][0] == "success"


@pytest.mark.parametrize(("name", "status"), [("hold", "on_hold"), ("unlist", "unlisted")])
@pytest.mark.parametrize("role", STAFF)
def test_hold_or_unlist_the_order_moves_it_and_files_the_action_on_this_case(personas, case, role, name, status):
    response = _act(personas[role], case, name, reason="fraud")

    case.order.refresh_from_db()
    assert case.order.status == status
    assert list(ModerationAction.objects.values_list("action", "case_id", "target_id")) == [
        (name, case.pk, case.order_id)
    ]
    assert _audited(f"moderation.order.{name}") == 1
    assert _messages(response) == [("success", f"Done: {name.capitalize()} order, recorded on this case.")]


def test_release_puts_a_held_order_back(personas, case):
    _act(personas["monitor"], case, "hold", reason="fraud")

    _act(personas["monitor"], case, "release", reason="fraud")

    case.order.refresh_from_db()
    assert case.order.status == "in_progress"
    assert ModerationAction.objects.get(action="hold").lift_reason == "released"


@pytest.mark.parametrize("role", STAFF)
def test_escalate_hands_the_case_to_admins(personas, case, role):
    _act(personas[role], case, "escalate", reason="fraud")

    case.refresh_from_db()
    assert (case.status, case.team, case.priority) == ("escalated", "admins", "high")
    assert _audited("moderation.order.escalate") == 1


@pytest.mark.parametrize("role", STAFF)
def test_resolve_with_a_note_resolves_the_case(personas, case, role):
    response = _act(personas[role], case, "resolve", note="  Refund confirmed, warned the client. ")

    case.refresh_from_db()
    assert (case.status, case.resolution_note, case.resolved_by_id) == (
        "resolved",
        "Refund confirmed, warned the client.",
        personas[role].pk,
    )
    assert _audited("moderation.case.resolve") == 1
    assert _messages(response) == [("success", "The case is resolved.")]


def test_the_evidence_graph_is_rebuilt_and_shown(personas, case, world):
    _act(personas["monitor"], case, "lineage")

    html = _logged_in(personas["monitor"]).get(f"{CASES}{case.pk}/change/").content.decode()

    assert LineageEdge.objects.filter(case=case).count() == len(re.findall(r"<li>Order #\d+ → ", html))
    assert _audited("moderation.lineage.recompute") == 1


@pytest.mark.parametrize("role", ["admin", "superadmin"])
def test_admins_lift_the_subjects_block_from_the_case(personas, case, role):
    _act(personas["monitor"], case, "block", reason="fraud")

    _act(personas[role], case, "unblock", reason="fraud")

    personas["client"].refresh_from_db()
    assert not personas["client"].is_blocked
    assert ModerationAction.objects.filter(action="unblock", actor=personas[role]).count() == 1


# --- refusals are messages ------------------------------------------------------------------------------------------


def test_the_case_form_cannot_resolve_a_case_without_a_note(personas, case):
    client = _logged_in(personas["monitor"])

    response = client.post(
        f"{CASES}{case.pk}/change/", {"status": "resolved", "resolution_note": "", "_save": "Save"}, follow=True
    )

    case.refresh_from_db()
    assert response.status_code == 200
    assert case.status == "open"
    assert _messages(response) == [("warning", "A case changes only through the actions on its page.")]


def test_resolving_without_a_note_is_a_message_and_changes_nothing(personas, case):
    response = _act(personas["monitor"], case, "resolve", note="   ")

    case.refresh_from_db()
    assert response.status_code == 200
    assert case.status == "open"
    assert _messages(response)[0][0] == "error"
    assert _messages(response)[0][1].startswith("Not done.")


def test_a_monitor_posting_an_unblock_is_told_it_is_not_open_to_them(personas, case):
    _act(personas["monitor"], case, "block", reason="fraud")

    response = _act(personas["monitor"], case, "unblock", reason="fraud")

    personas["client"].refresh_from_db()
    assert personas["client"].is_blocked
    assert _messages(response) == [("error", "This action is not open to you on this case now.")]


def test_a_service_refusal_is_a_message_in_words(personas, case):
    # the case's subject outranks the monitor: the service refuses, the page says why
    Case.objects.filter(pk=case.pk).update(subject=personas["admin"])

    response = _act(personas["monitor"], case, "block", reason="fraud")

    assert response.status_code == 200
    assert _messages(response) == [("error", "You may not block a user of your rank or above.")]
    assert not ModerationAction.objects.exists()


def test_bulk_resolve_reports_done_and_refused(personas, case, order):
    other = Case.objects.create(
        subject=personas["client"], reason=case.reason, priority="low", status="resolved", sla_due_at=timezone.now(),
        resolved_at=timezone.now(), resolution_note="Earlier.",
    )  # fmt: skip
    client = _logged_in(personas["monitor"])

    response = client.post(
        CASES, {"action": "case_resolve", "_selected_action": [case.pk, other.pk], "note": "Closed."}, follow=True
    )

    case.refresh_from_db()
    assert case.status == "resolved"
    [(level, text)] = _messages(response)
    assert level == "warning"
    assert text.startswith("1 done, 1 refused.")
    assert f"#{other.pk}: This case is already resolved." in text


# --- moderation actions are read, never added ------------------------------------------------------------------------


@pytest.mark.parametrize("role", STAFF)
def test_add_moderation_action_is_not_offered(personas, case, role):
    client = _logged_in(personas[role])

    listing = client.get("/backoffice/moderation/moderationaction/").content.decode()
    add = client.post("/backoffice/moderation/moderationaction/add/", {"action": "block"})

    assert "/moderationaction/add/" not in listing
    assert add.status_code == 403
    assert not ModerationAction.objects.exists()


# --- the order page: moderation's hold, unlist and release ------------------------------------------------------------


@pytest.mark.parametrize("role", STAFF)
def test_the_order_page_holds_and_releases_through_moderation(personas, order, role):
    client = _logged_in(personas[role])
    page = client.get(f"/backoffice/marketplace/order/{order.pk}/change/").content.decode()

    client.post(f"/backoffice/marketplace/order/{order.pk}/transition/hold/", {"reason": "fraud"})
    order.refresh_from_db()
    held = order.status
    client.post(f"/backoffice/marketplace/order/{order.pk}/transition/release/", {"reason": "fraud"})

    order.refresh_from_db()
    assert {"hold", "unlist"} <= set(re.findall(r'name="order_action" value="(\w+)"', page))
    assert (held, order.status) == ("on_hold", "in_progress")
    assert list(ModerationAction.objects.order_by("id").values_list("action", flat=True)) == ["hold", "release"]
    assert _audited("moderation.order.hold") == _audited("moderation.order.release") == 1


# --- people, labels and times ----------------------------------------------------------------------------------------


def test_the_queue_shows_people_labels_and_the_staff_members_zone(personas, case):
    monitor = personas["monitor"]
    monitor.timezone = "Asia/Riyadh"
    monitor.save(update_fields=["timezone"])
    Case.objects.filter(pk=case.pk).update(assignee=personas["admin"])

    html = _logged_in(monitor).get(CASES).content.decode()

    client = personas["client"]
    assert f"{client.display_name} ({client.masked_email})" in html
    assert client.email not in html
    assert "Fraud" in html  # the reason's label, not its code
    assert "(Asia/Riyadh)" in html


def test_moderation_rows_read_as_words(personas, case):
    action = services.order_moderate(
        identity=Identity.of(personas["monitor"]),
        order_id=case.order_id,
        action="hold",
        reason_code="fraud",
        evidence=[],
    )[1][0]

    assert (str(case), str(case.reason), str(action)) == (
        f"Case #{case.pk} · Open",
        "Fraud",
        f"Hold order · Order #{case.order_id}",
    )
