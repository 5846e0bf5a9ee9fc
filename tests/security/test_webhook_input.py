"""Issue 14, item 9 (notifications' part): a Twilio-signed webhook with a NUL in any field answers
400 in the one error shape and stores nothing (never 500); a suppression lift takes its reason as a
code (free text never reaches the audit trail); a suppression's free note stays out of the audit."""

import pytest

from notifications.models import Suppression, WebhookEvent
from samia.audit.models import AuditEntry
from tests.conftest import api_as
from tests.notifications.conftest import twilio, twilio_server  # noqa: F401  (the fake Twilio fixtures)
from tests.notifications.webhook_helpers import INBOUND, PHONE, STATUS, post_signed

pytestmark = pytest.mark.django_db

SID = "SM" + "a" * 32


def _inbound(twilio_fake, **overrides) -> dict:
    return {**twilio_fake.inbound_form(PHONE, "STOP"), **overrides}


def _status(twilio_fake, **overrides) -> dict:
    return {**twilio_fake.status_callback_form(SID, "delivered"), **overrides}


CASES = {
    "inbound_from": (INBOUND, _inbound, {"From": "+4477009\x00123"}),
    "inbound_message_sid": (INBOUND, _inbound, {"MessageSid": SID + "\x00"}),
    "inbound_body": (INBOUND, _inbound, {"Body": "ST\x00OP"}),
    "inbound_opt_out_type": (INBOUND, _inbound, {"OptOutType": "STOP\x00"}),
    "status_message_sid": (STATUS, _status, {"MessageSid": "\x00" + SID}),
    "status_status": (STATUS, _status, {"MessageStatus": "delivered\x00"}),
    "status_error_code": (STATUS, _status, {"MessageStatus": "undelivered", "ErrorCode": "30\x0005"}),
    "status_query_send": (STATUS + "?send=12%00", _status, {}),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_signed_webhook_with_a_nul_is_refused_with_400_and_stores_nothing(twilio, case):  # noqa: F811
    path, form, overrides = CASES[case]

    response = post_signed(path, form(twilio, **overrides))

    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["details"]) == ("invalid", {"form": ["No field may hold a null character."]})
    assert WebhookEvent.objects.count() == 0


def test_an_unsigned_webhook_with_a_nul_is_still_refused_as_unsigned(twilio):  # noqa: F811
    response = post_signed(INBOUND, _inbound(twilio, From="+44\x00"), signature="forged")

    assert response.status_code == 403 and response.json()["error"]["details"] == {"reason": "bad_signature"}
    assert WebhookEvent.objects.count() == 0


@pytest.fixture
def suppression(personas):
    admin = api_as(personas["admin"])
    added = admin.post("/admin/suppressions", {"channel": "sms", "user_id": personas["client"].pk}, format="json")
    assert added.status_code == 201
    return Suppression.objects.get(pk=added.json()["id"])


@pytest.mark.parametrize("reason", ["customer asked", "customer_request\x00", "x" * 41, "a@example.com"])
def test_a_lift_reason_that_is_not_a_code_is_refused_and_changes_nothing(personas, suppression, reason):
    response = api_as(personas["admin"]).post(
        f"/admin/suppressions/{suppression.pk}/lift", {"reason": reason}, format="json"
    )

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid" and list(error["details"]) == ["reason"]
    suppression.refresh_from_db()
    assert suppression.lifted_at is None
    assert not AuditEntry.objects.filter(action="notifications.suppression.lift").exists()


def test_a_lift_reason_from_the_list_is_audited_as_that_code(personas, suppression):
    response = api_as(personas["admin"]).post(
        f"/admin/suppressions/{suppression.pk}/lift", {"reason": "customer_request"}, format="json"
    )

    assert response.status_code == 200 and response.json()["lifted_at"] is not None
    entry = AuditEntry.objects.get(action="notifications.suppression.lift")
    assert entry.details == {"channel": "sms", "reason": "customer_request"}


def test_a_suppressions_free_note_stays_out_of_the_audit_and_a_nul_in_it_is_a_400(personas):
    admin = api_as(personas["admin"])
    base = {"channel": "sms", "user_id": personas["client"].pk}

    refused = admin.post("/admin/suppressions", {**base, "note": "customer\x00asked"}, format="json")
    assert refused.status_code == 400 and list(refused.json()["error"]["details"]) == ["note"]
    assert not Suppression.objects.exists()

    added = admin.post("/admin/suppressions", {**base, "note": "customer asked on the phone"}, format="json")
    assert added.status_code == 201
    entry = AuditEntry.objects.get(action="notifications.suppression.add")
    assert entry.details == {"channel": "sms", "reason": "manual", "by_address": False}
    assert "customer asked" not in entry.payload
