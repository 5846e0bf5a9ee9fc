"""GET /admin/audit, POST /admin/audit/attest, GET /admin/audit/public-key."""

import pytest
from django.db import connection
from django.test import override_settings

from samia.audit.models import AuditCheckpoint, AuditEntry
from tests.audit.conftest import IN_LAST_MONTH, IN_MONTH_BEFORE, tamper, write
from tests.conftest import api_as

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.audit.urls")]


@pytest.fixture
def trail(personas):
    """Three moderation entries (seq 1-3) and four others (seq 4-7), the first of them in January 2026."""
    write(3, action="moderation.user.block", actor=personas["monitor"])
    write(1, action="marketplace.order.approve", actor=personas["admin"], at=IN_LAST_MONTH)
    write(3, action="accounts.user.update", actor=personas["superadmin"])


def _seqs(response):
    return [row["seq"] for row in response.json()["results"]]


@pytest.mark.parametrize(
    ("persona", "status", "seqs"),
    [
        (None, 401, None),
        ("client", 403, None),
        ("reader", 403, None),
        ("monitor", 200, [3, 2, 1]),
        ("admin", 200, [7, 6, 5, 4, 3, 2, 1]),
        ("superadmin", 200, [7, 6, 5, 4, 3, 2, 1]),
    ],
)
def test_who_reads_the_trail(trail, personas, persona, status, seqs):
    response = api_as(personas.get(persona)).get("/admin/audit")

    assert response.status_code == status
    if seqs is not None:
        assert _seqs(response) == seqs
        assert all(row["verifies"] for row in response.json()["results"])
    else:
        assert set(response.json()) == {"error"}


@pytest.mark.parametrize(
    ("query", "seqs"),
    [
        ("action=moderation.user.block", [3, 2, 1]),
        ("target_type=test.thing&target_id=1", [6, 2]),
        ("outcome=denied", []),
        ("outcome=success&action=marketplace.order.approve", [4]),
        ("to=2026-02-01T00:00:00Z", [4]),
        ("from=2026-01-01T00:00:00Z&to=2026-01-31T00:00:00Z", [4]),
        ("from=2026-02-01T00:00:00%2B00:00", [7, 6, 5, 3, 2, 1]),
    ],
)
def test_it_filters(trail, personas, query, seqs):
    response = api_as(personas["admin"]).get(f"/admin/audit?{query}")

    assert response.status_code == 200
    assert _seqs(response) == seqs


def test_it_filters_by_actor(trail, personas):
    response = api_as(personas["admin"]).get(f"/admin/audit?actor={personas['superadmin'].pk}")

    assert _seqs(response) == [7, 6, 5]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("actor=abc", "actor"),
        ("actor=0", "actor"),
        ("outcome=maybe", "outcome"),
        ("from=yesterday", "from"),
        ("to=2026-13-01T00:00:00Z", "to"),
        ("from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z", "to"),
        (f"action={'a' * 81}", "action"),
    ],
)
def test_it_refuses_bad_filters(trail, personas, query, field):
    response = api_as(personas["admin"]).get(f"/admin/audit?{query}")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert field in response.json()["error"]["details"]


def test_it_pages_by_cursor_newest_first(trail, personas):
    client = api_as(personas["admin"])

    first = client.get("/admin/audit?page_size=3").json()
    second = client.get(first["next"]).json()

    assert [r["seq"] for r in first["results"]] == [7, 6, 5]
    assert [r["seq"] for r in second["results"]] == [4, 3, 2]


def test_each_row_says_whether_it_verifies(trail, personas):
    tamper(
        "UPDATE audit_auditentry SET payload = replace(payload, 'block', 'unblock') WHERE seq = 2",
        "UPDATE audit_auditentry SET prev_hash = repeat('1', 64) WHERE seq = 6",
    )

    admin_rows = api_as(personas["admin"]).get("/admin/audit").json()["results"]
    monitor_rows = api_as(personas["monitor"]).get("/admin/audit").json()["results"]

    assert {r["seq"]: r["verifies"] for r in admin_rows} == {
        7: True,
        6: False,
        5: True,
        4: True,
        3: True,
        2: False,
        1: True,
    }
    assert {r["seq"]: r["verifies"] for r in monitor_rows} == {3: True, 2: False, 1: True}


@pytest.mark.parametrize(
    ("persona", "status"),
    [(None, 401), ("client", 403), ("reader", 403), ("monitor", 403), ("admin", 201), ("superadmin", 201)],
)
def test_who_signs_a_checkpoint(trail, personas, persona, status):
    user = personas.get(persona)

    response = api_as(user).post("/admin/audit/attest")

    assert response.status_code == status
    if status == 201:
        body = response.json()
        assert (body["seq"], body["count"], body["key_id"], body["signed_by_id"]) == (7, 7, "0123456789ABCDEF", user.pk)
        assert body["row_hash"] == AuditEntry.objects.get(seq=7).row_hash
        assert body["signature"].startswith("untrusted comment: ")
        assert AuditEntry.objects.filter(action="audit.checkpoint.sign", actor_id=user.pk).count() == 1
    else:
        assert not AuditCheckpoint.objects.exists()
        assert not AuditEntry.objects.filter(action="audit.checkpoint.sign").exists()


@override_settings(AUDIT_SIGNING_KEY="")
def test_attest_answers_503_without_a_key(trail, personas):
    response = api_as(personas["admin"]).post("/admin/audit/attest")

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "signing_unavailable"
    assert not AuditCheckpoint.objects.exists()


@pytest.mark.parametrize("persona", [None, "client", "reader", "monitor", "admin", "superadmin"])
def test_anyone_reads_the_public_key(personas, persona, signing_key):
    from samia.audit import minisign

    response = api_as(personas.get(persona)).get("/admin/audit/public-key")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content.decode() == minisign.public_key_text(signing_key)


@override_settings(AUDIT_SIGNING_KEY="")
def test_the_public_key_answers_503_without_a_key():
    response = api_as().get("/admin/audit/public-key")

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "signing_unavailable"


def test_a_row_after_a_purge_links_to_the_anchor(personas, tmp_path):
    import datetime as dt

    from samia.audit.services import export_month, retention_purge

    # the trail, with its three moderation entries (seq 1-3) in December 2025
    write(3, action="moderation.user.block", actor=personas["monitor"], at=IN_MONTH_BEFORE)
    write(1, action="marketplace.order.approve", actor=personas["admin"], at=IN_LAST_MONTH)
    write(3, action="accounts.user.update", actor=personas["superadmin"])
    export_month(month="2025-12", out_dir=tmp_path)
    assert retention_purge(before=dt.date(2026, 1, 1)).seq == 3

    monitor_rows = api_as(personas["monitor"]).get("/admin/audit").json()["results"]
    admin_rows = api_as(personas["admin"]).get("/admin/audit").json()["results"]

    assert monitor_rows == []
    assert {r["seq"]: r["verifies"] for r in admin_rows} == {7: True, 6: True, 5: True, 4: True}


def test_the_back_office_shows_the_trail_read_only_with_hash_status(make_user):
    from django.test import Client

    from samia.audit.services import record
    from tests.factories import PASSWORD

    admin_user = make_user(role="admin")
    record(action="moderation.user.block", actor="system:test", details={"rule": "x"})
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    client = Client()
    client.post("/backoffice/login/", {"username": admin_user.email, "password": PASSWORD})

    page = client.get("/backoffice/audit/auditentry/")
    # The whole chain is verified by a button on the list, with no row to tick.
    verify = client.post("/backoffice/audit/auditentry/verify/", follow=True)
    add = client.get("/backoffice/audit/auditentry/add/")

    assert page.status_code == 200
    assert b"moderation.user.block" in page.content
    assert "✓ intact" in page.content.decode()
    assert b"The chain verifies" in verify.content
    assert add.status_code == 403
