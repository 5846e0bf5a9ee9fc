"""POST /monitor/lineage/recompute: a case's order <-> media <-> calls graph, from real rows only, idempotent."""

import pytest
from django.utils import timezone

from moderation.models import Case, LineageEdge, ReasonCode
from samia.audit.models import AuditEntry
from tests import factories
from tests.conftest import api_as

pytestmark = pytest.mark.django_db

URL = "/monitor/lineage/recompute"


def _case(**about):
    now = timezone.now()
    subject = about.pop("subject")
    return Case.objects.create(
        subject=subject,
        reason=ReasonCode.objects.get(code="other"),
        priority="low",
        opened_at=now,
        sla_due_at=now,
        **about,
    )


@pytest.fixture
def evidence(personas):
    """An order with two media (one removed), a call and a payment; and another order of the same client."""
    order = factories.OrderFactory(client=personas["client"], reader=personas["reader"], status="in_progress")
    kept = factories.MediaAssetFactory(owner=personas["reader"], order=order, sha256="a" * 64, bytes=2048)
    removed = factories.MediaAssetFactory(
        owner=personas["reader"], order=order, sha256="b" * 64, bytes=512, removed_at=timezone.now()
    )
    call = factories.CallFactory(order=order, reader=personas["reader"], status="dropped")
    payment = factories.PaymentFactory(order=order)
    other = factories.OrderFactory(client=personas["client"])
    factories.MediaAssetFactory(owner=personas["client"], order=other)
    factories.CallFactory(order=other, reader=personas["reader"])
    return {"order": order, "kept": kept, "removed": removed, "call": call, "payment": payment}


def _expected(e):
    order = e["order"].pk
    return sorted(
        [
            {"from_type": "order", "from_id": order, "to_type": "call", "to_id": e["call"].pk},
            {
                "from_type": "order",
                "from_id": order,
                "to_type": "media",
                "to_id": e["kept"].pk,
                "sha256": "a" * 64,
                "bytes": 2048,
                "removed": False,
            },
            {
                "from_type": "order",
                "from_id": order,
                "to_type": "media",
                "to_id": e["removed"].pk,
                "sha256": "b" * 64,
                "bytes": 512,
                "removed": True,
            },
            {"from_type": "order", "from_id": order, "to_type": "payment", "to_id": e["payment"].pk},
        ],
        key=lambda edge: (edge["to_type"], edge["to_id"]),
    )


def _edges(case):
    return sorted(LineageEdge.objects.filter(case=case).values_list("from_type", "from_id", "to_type", "to_id"))


def test_it_builds_the_graph_of_a_cases_order_from_its_rows_including_removed_media(personas, evidence):
    case = _case(subject=personas["client"], order=evidence["order"])

    response = api_as(personas["monitor"]).post(URL, {"case_id": case.pk}, format="json")

    assert response.status_code == 200, response.content
    assert response.json() == {"case_id": case.pk, "edges": _expected(evidence)}
    assert _edges(case) == sorted(
        ("order", evidence["order"].pk, e["to_type"], e["to_id"]) for e in _expected(evidence)
    )
    entry = AuditEntry.objects.get(action="moderation.lineage.recompute")
    assert (entry.actor_id, entry.target_type, entry.target_id) == (
        personas["monitor"].pk,
        "moderation.case",
        str(case.pk),
    )
    assert entry.details == {"orders": [evidence["order"].pk], "edges": 4, "added": 4, "removed": 0}


def test_it_is_idempotent_and_follows_the_rows_as_they_change(personas, evidence):
    case = _case(subject=personas["client"], order=evidence["order"])
    api = api_as(personas["admin"])

    first = api.post(URL, {"case_id": case.pk}, format="json").json()
    ids = sorted(LineageEdge.objects.filter(case=case).values_list("id", flat=True))
    second = api.post(URL, {"case_id": case.pk}, format="json").json()

    assert first == second
    assert sorted(LineageEdge.objects.filter(case=case).values_list("id", flat=True)) == ids
    # when a payment appears and a stale edge is left over, a recompute adds the one and drops the other
    payment = factories.PaymentFactory(order=evidence["order"], attempt=2)
    LineageEdge.objects.create(case=case, from_type="order", from_id=evidence["order"].pk, to_type="call", to_id=999999)
    third = api.post(URL, {"case_id": case.pk}, format="json").json()
    assert [e["to_id"] for e in third["edges"] if e["to_type"] == "payment"] == [evidence["payment"].pk, payment.pk]
    assert ("order", evidence["order"].pk, "call", 999999) not in _edges(case)
    assert len(_edges(case)) == 5
    last = AuditEntry.objects.filter(action="moderation.lineage.recompute").order_by("-id").first()
    assert last.details == {"orders": [evidence["order"].pk], "edges": 5, "added": 1, "removed": 1}


@pytest.mark.parametrize("about", ["media", "call"])
def test_a_case_about_media_or_a_call_reaches_its_order_and_the_orders_other_rows(personas, evidence, about):
    target = evidence["removed"] if about == "media" else evidence["call"]
    case = _case(subject=personas["reader"], **{about: target})

    response = api_as(personas["superadmin"]).post(URL, {"case_id": case.pk}, format="json")

    assert response.status_code == 200
    assert response.json()["edges"] == _expected(evidence)


def test_a_case_about_a_user_only_has_no_edges(personas, evidence):
    case = _case(subject=personas["client"])

    response = api_as(personas["monitor"]).post(URL, {"case_id": case.pk}, format="json")

    assert response.json() == {"case_id": case.pk, "edges": []}
    assert not LineageEdge.objects.exists()


@pytest.mark.parametrize(
    ("role", "expected"),
    [(None, 401), ("client", 403), ("reader", 403), ("monitor", 200), ("admin", 200), ("superadmin", 200)],
)
def test_role_matrix(personas, evidence, role, expected):
    case = _case(subject=personas["client"], order=evidence["order"])

    response = api_as(personas[role] if role else None).post(URL, {"case_id": case.pk}, format="json")

    assert response.status_code == expected
    audited = AuditEntry.objects.filter(action="moderation.lineage.recompute").count()
    assert (LineageEdge.objects.count(), audited) == ((4, 1) if expected == 200 else (0, 0))


@pytest.mark.parametrize("body", [{}, {"case_id": "x"}, {"case_id": 0}, {"case_id": None}])
def test_bad_input_is_a_400_naming_the_field(personas, body):
    response = api_as(personas["monitor"]).post(URL, body, format="json")

    assert response.status_code == 400
    assert "case_id" in response.json()["error"]["details"]
    assert not AuditEntry.objects.filter(action="moderation.lineage.recompute").exists()


def test_an_unknown_case_is_a_404(personas):
    response = api_as(personas["monitor"]).post(URL, {"case_id": 987654}, format="json")

    assert response.status_code == 404
    assert not AuditEntry.objects.filter(action="moderation.lineage.recompute").exists()
