"""POST /webhooks/twilio/status, and what every Twilio webhook refuses: bad signatures, other accounts, replays."""

import pytest
from twilio.request_validator import RequestValidator

from notifications import inbox
from notifications.models import Bounce, Suppression, WebhookEvent
from notifications.services import address_hash
from tests.notifications.conftest import TWILIO_TOKEN
from tests.notifications.helpers import events, recipient
from tests.notifications.webhook_helpers import (
    BASE_URL,
    INBOUND,
    PHONE,
    STATUS,
    assert_refused,
    post_signed,
    receipt,
    sent_sms,
)

pytestmark = pytest.mark.django_db


# ---------------------------------------------------------------------------------------------
# Status callbacks


def test_it_accepts_a_signed_delivery_receipt_and_marks_the_send_delivered(twilio):
    send = sent_sms(recipient())

    response = receipt(twilio, send, "delivered")

    assert response.status_code == 204
    (event,) = WebhookEvent.objects.all()
    assert (event.kind, event.channel, event.processed_at) == ("status", "sms", None)
    assert inbox.process() == 1
    send.refresh_from_db()
    assert send.state == "delivered" and send.delivered_at is not None
    assert events("notification.delivered") == [{"send_id": send.pk, "channel": "sms"}]
    event.refresh_from_db()
    assert event.outcome == "delivered" and event.processed_at is not None


def test_a_read_receipt_marks_the_send_opened(twilio):
    send = sent_sms(recipient())

    assert receipt(twilio, send, "read").status_code == 204
    inbox.process()

    send.refresh_from_db()
    assert send.state == "opened" and send.opened_at is not None and send.delivered_at is not None
    assert events("notification.opened") == [{"send_id": send.pk, "channel": "sms"}]


def test_a_hard_bounce_suppresses_the_user(twilio):
    user = recipient()
    send = sent_sms(user)

    assert receipt(twilio, send, "undelivered", 30005).status_code == 204
    inbox.process()

    send.refresh_from_db()
    assert send.state == "bounced" and send.last_error == "30005" and not send.escalated
    assert list(Bounce.objects.values_list("send_id", "kind", "code")) == [(send.pk, "hard", "30005")]
    suppression = Suppression.objects.get(channel="sms", user=user, lifted_at=None)
    assert suppression.reason == "hard_bounce" and suppression.address_hash == address_hash(PHONE)


def test_a_complaint_bounces_suppresses_and_escalates(twilio):
    user = recipient()
    send = sent_sms(user)

    receipt(twilio, send, "undelivered", 30004)
    inbox.process()

    send.refresh_from_db()
    assert send.state == "bounced" and send.escalated
    assert list(Bounce.objects.values_list("kind", "code")) == [("complaint", "30004")]
    assert Suppression.objects.get(channel="sms", user=user, lifted_at=None).reason == "complaint"


def test_a_soft_failure_records_a_soft_bounce_without_suppressing(twilio):
    user = recipient()
    send = sent_sms(user)

    receipt(twilio, send, "failed", 30003)
    inbox.process()

    send.refresh_from_db()
    assert send.state == "failed" and send.last_error == "30003" and not send.escalated
    assert list(Bounce.objects.values_list("kind", "code")) == [("soft", "30003")]
    assert not Suppression.objects.exists()


def test_a_stale_receipt_changes_nothing(twilio):
    send = sent_sms(recipient())
    receipt(twilio, send, "read")
    inbox.process()
    send.refresh_from_db()
    before = (send.state, send.state_changed_at, send.delivered_at, send.opened_at)

    receipt(twilio, send, "delivered")
    inbox.process()

    send.refresh_from_db()
    assert (send.state, send.state_changed_at, send.delivered_at, send.opened_at) == before
    assert send.state == "opened"
    assert events("notification.delivered") == []
    assert WebhookEvent.objects.order_by("id").last().outcome == "stale"


def test_a_receipt_for_an_unknown_message_touches_no_send(twilio):
    send = sent_sms(recipient())

    post_signed(STATUS, twilio.status_callback_form("SM" + "f" * 32, "delivered"))
    inbox.process()

    send.refresh_from_db()
    assert send.state == "sent"
    assert WebhookEvent.objects.get().outcome == "unknown_message"


# ---------------------------------------------------------------------------------------------
# Signatures and replays


def _form_for(path, twilio):
    if path == STATUS:
        return twilio.status_callback_form("SM" + "a" * 32, "delivered")
    return twilio.inbound_form(PHONE, "STOP")


@pytest.mark.parametrize("path", [STATUS, INBOUND])
def test_a_signature_made_with_another_token_is_refused(twilio, path):
    response = post_signed(path, _form_for(path, twilio), token="not-the-auth-token")

    assert_refused(response)
    assert response.json()["error"]["details"] == {"reason": "bad_signature"}


@pytest.mark.parametrize("path", [STATUS, INBOUND])
def test_a_request_without_a_signature_is_refused(twilio, path):
    assert_refused(post_signed(path, _form_for(path, twilio), signature=""))


@pytest.mark.parametrize("path", [STATUS, INBOUND])
def test_a_signature_over_another_url_is_refused(twilio, path):
    # What a proxy that rewrites the host produces: Twilio signed the URL it called, not ours.
    response = post_signed(path, _form_for(path, twilio), base_url="http://internal:8000")

    assert_refused(response)


def test_a_signed_form_changed_in_transit_is_refused(twilio):
    form = twilio.status_callback_form("SM" + "a" * 32, "delivered")
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(BASE_URL + STATUS, form)

    response = post_signed(STATUS, {**form, "MessageStatus": "read"}, signature=signature)

    assert_refused(response)


def test_a_request_for_another_account_is_refused(twilio):
    form = {**twilio.status_callback_form("SM" + "a" * 32, "delivered"), "AccountSid": "AC" + "9" * 32}

    response = post_signed(STATUS, form)

    assert_refused(response)
    assert response.json()["error"]["details"] == {"reason": "wrong_account"}


@pytest.mark.parametrize(
    ("path", "missing"), [(STATUS, "MessageStatus"), (STATUS, "MessageSid"), (INBOUND, "From"), (INBOUND, "MessageSid")]
)
def test_a_signed_but_incomplete_form_is_refused(twilio, path, missing):
    form = {k: v for k, v in _form_for(path, twilio).items() if k != missing}

    response = post_signed(path, form)

    assert_refused(response)
    assert response.json()["error"]["details"] == {"reason": "incomplete"}


@pytest.mark.parametrize("path", [STATUS, INBOUND])
def test_webhooks_are_refused_while_no_auth_token_is_configured(twilio, settings, path):
    form = _form_for(path, twilio)
    settings.TWILIO_AUTH_TOKEN = ""

    response = post_signed(path, form, token=TWILIO_TOKEN)

    assert_refused(response)
    assert response.json()["error"]["details"] == {"reason": "not_configured"}


def test_a_replayed_receipt_is_refused_and_applied_once(twilio):
    send = sent_sms(recipient())
    form = twilio.status_callback_form(send.message_id, "delivered")

    first = post_signed(STATUS, form)
    inbox.process()
    second = post_signed(STATUS, form)

    assert first.status_code == 204
    assert second.status_code == 403
    assert second.json()["error"]["details"] == {"reason": "replayed"}
    assert WebhookEvent.objects.count() == 1
    assert inbox.process() == 0
    send.refresh_from_db()
    assert send.state == "delivered"
    assert len(events("notification.delivered")) == 1


def test_a_replayed_inbound_message_is_refused_before_processing(twilio):
    recipient()
    form = twilio.inbound_form(PHONE, "STOP")

    assert post_signed(INBOUND, form).status_code == 200
    assert post_signed(INBOUND, form).status_code == 403

    assert inbox.process() == 1
    assert Suppression.objects.count() == 1
