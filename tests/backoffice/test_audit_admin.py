"""The audit trail in the back office (issue 15, items 3 and 5): an entry's page shows its payload, hashes,
request id and their check; the whole chain is verified by a button; checkpoints are listed, read-only."""

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from samia.audit.models import AuditCheckpoint, AuditEntry
from samia.audit.services import record
from samia.audit.verify import row_hash
from tests.factories import PASSWORD, OrderFactory, UserFactory

pytestmark = pytest.mark.django_db

ENTRIES = "/backoffice/audit/auditentry/"
CHECKPOINTS = "/backoffice/audit/auditcheckpoint/"


def _logged_in(user) -> Client:
    client = Client()
    assert client.post("/backoffice/login/", {"username": user.email, "password": PASSWORD}).status_code == 302
    return client


def _messages(response) -> list[tuple[str, str]]:
    return [(m.level_tag, str(m)) for m in response.context["messages"]] if response.context else []


def _chained() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


@pytest.fixture
def entry(personas):
    nora = UserFactory(role="monitor", first_name="Nora", last_name="Haddad", email="nora@demo.samia.test")
    record(action="moderation.user.block", actor=nora, target=personas["client"], details={"reason": "fraud"})
    _chained()
    return AuditEntry.objects.filter(action="moderation.user.block").latest("seq")


def test_an_entry_page_shows_payload_hashes_request_and_their_check(personas, entry):
    personas["admin"].timezone = "America/New_York"
    personas["admin"].save()

    html = _logged_in(personas["admin"]).get(f"{ENTRIES}{entry.pk}/change/").content.decode()

    assert entry.row_hash in html and entry.prev_hash in html
    assert entry.row_hash == row_hash(entry.prev_hash, entry.payload)
    assert "Matches: sha256(previous hash + payload) is this row&#x27;s hash." in html
    assert "Links:" in html
    assert "&quot;reason&quot;: &quot;fraud&quot;" in html  # the details, pretty-printed
    assert "moderation.user.block" in html
    assert "Nora Haddad (n***@demo.samia.test)" in html and "Monitor" in html
    assert f'href="/backoffice/accounts/user/{personas["client"].pk}/change/"' in html
    assert "(America/New_York)" in html


def test_the_request_id_links_to_every_entry_of_that_request(personas, entry):
    # given an entry written by a back-office request (it carries that request's id)
    order = OrderFactory(client=personas["client"], reader=personas["reader"], status="awaiting_approval")
    client = _logged_in(personas["admin"])
    client.post(f"/backoffice/marketplace/order/{order.pk}/transition/approve/")
    _chained()
    approval = AuditEntry.objects.get(action="marketplace.order.approve")

    # when the admin opens it and follows the link
    page = client.get(f"{ENTRIES}{approval.pk}/change/").content.decode()
    listing = client.get(ENTRIES, {"request_id": approval.request_id}).content.decode()

    # then the list holds that request's entries only
    assert approval.request_id and f"{ENTRIES}?request_id={approval.request_id}" in page
    assert "marketplace.order.approve" in listing and "moderation.user.block" not in listing


def test_verify_the_whole_chain_needs_no_ticked_row(personas, entry):
    client = _logged_in(personas["admin"])

    listing = client.get(ENTRIES).content.decode()
    response = client.post(f"{ENTRIES}verify/", follow=True)

    assert 'action="/backoffice/audit/auditentry/verify/"' in listing
    [(level, text)] = _messages(response)
    assert level == "success" and text.startswith("The chain verifies: ")


def test_a_monitor_reads_moderation_entries_but_is_not_offered_the_chain_check(personas, entry):
    client = _logged_in(personas["monitor"])

    listing = client.get(ENTRIES).content.decode()
    page = client.get(f"{ENTRIES}{entry.pk}/change/")
    response = client.post(f"{ENTRIES}verify/", follow=True)

    assert "moderation.user.block" in listing
    assert "Verify the whole chain" not in listing
    assert page.status_code == 200
    assert _messages(response) == [("error", "Your role reads only part of the trail, so it cannot verify the chain.")]


def test_the_trail_is_read_only_and_named_in_the_plural(personas, entry):
    client = _logged_in(personas["superadmin"])

    index = client.get("/backoffice/").content.decode()
    add = client.get(f"{ENTRIES}add/")
    change = client.post(f"{ENTRIES}{entry.pk}/change/", {})
    delete = client.post(f"{ENTRIES}{entry.pk}/delete/", {"post": "yes"})

    assert "Audit entries" in index and "Audit entrys" not in index
    assert (add.status_code, change.status_code, delete.status_code) == (403, 403, 403)
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_the_checkpoint_list_shows_serial_seq_and_zoned_times_read_only(personas):
    signed = timezone.now() - dt.timedelta(hours=1)
    checkpoint = AuditCheckpoint.objects.create(
        serial=7,
        seq=42,
        row_hash="a" * 64,
        count=42,
        signed_at=signed,
        key_id="0123456789ABCDEF",
        statement="{}",
        signature="sig",
        witnessed_at=signed + dt.timedelta(minutes=5),
    )
    personas["admin"].timezone = "Asia/Riyadh"
    personas["admin"].save()
    client = _logged_in(personas["admin"])

    listing = client.get(CHECKPOINTS).content.decode()
    add = client.get(f"{CHECKPOINTS}add/")
    change = client.post(f"{CHECKPOINTS}{checkpoint.pk}/change/", {"serial": 8})

    for text in (">7<", ">42<", "0123456789ABCDEF", "(Asia/Riyadh)", "signed at", "witnessed at"):
        assert text in listing, text
    assert (add.status_code, change.status_code) == (403, 403)
    checkpoint.refresh_from_db()
    assert checkpoint.serial == 7


def test_a_monitor_sees_no_checkpoints_and_clients_no_back_office(personas):
    monitor = _logged_in(personas["monitor"])
    client = Client()
    client.force_login(personas["client"])

    assert monitor.get(CHECKPOINTS).status_code == 403
    assert client.get(ENTRIES).status_code == 302
    assert client.post(f"{ENTRIES}verify/").status_code == 302


def test_the_entry_list_costs_the_same_queries_for_2_or_20_entries(personas):
    client = _logged_in(personas["admin"])
    actors = [UserFactory(role="monitor") for _ in range(20)]
    for actor in actors[:2]:
        record(action="moderation.user.block", actor=actor, target=personas["client"])
    _chained()
    client.get(ENTRIES)
    with CaptureQueriesContext(connection) as few:
        client.get(ENTRIES)
    for actor in actors[2:]:
        record(action="moderation.user.block", actor=actor, target=personas["client"])
    _chained()
    with CaptureQueriesContext(connection) as many:
        client.get(ENTRIES)

    assert len(many) == len(few)
