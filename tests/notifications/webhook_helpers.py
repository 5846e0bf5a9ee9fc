"""Builders shared by the webhook and tracking-link tests: signed Twilio posts, a sent SMS."""

from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

from notifications import dispatch as dispatcher
from notifications.models import Consent, Send, WebhookEvent
from tests.conftest import api_as
from tests.notifications.conftest import TWILIO_TOKEN
from tests.notifications.helpers import notify

BASE_URL = "https://api.samia.test"  # what the `twilio` fixture sets as PUBLIC_BASE_URL
STATUS = "/webhooks/twilio/status"
INBOUND = "/webhooks/twilio/inbound"
PHONE = "+447700900123"
TARGET = "https://samia.test/offers/42"


def post_signed(path, form, *, token=TWILIO_TOKEN, base_url=BASE_URL, signature=None):
    """POST `form` as Twilio does: urlencoded, signed over the public URL and the same params."""
    if signature is None:
        signature = RequestValidator(token).compute_signature(base_url + path, form)
    headers = {"HTTP_X_TWILIO_SIGNATURE": signature} if signature else {}
    return api_as().post(path, data=urlencode(form), content_type="application/x-www-form-urlencoded", **headers)


def sent_sms(user) -> Send:
    """An SMS that went out through the fake, so it carries a real Twilio SID."""
    (send,) = notify(user)
    dispatcher.dispatch(budget_seconds=5)
    send.refresh_from_db()
    assert send.state == "sent" and send.message_id.startswith("SM")
    return send


def receipt(twilio, send, status, error_code=None):
    return post_signed(STATUS, twilio.status_callback_form(send.message_id, status, error_code))


def inbound(twilio, body, *, sender=PHONE, opt_out_type=None):
    return post_signed(INBOUND, twilio.inbound_form(sender, body, opt_out_type))


def latest_consents(user, channel="sms") -> dict:
    rows = Consent.objects.filter(user=user, channel=channel).order_by("purpose", "-recorded_at", "-id")
    latest = {}
    for row in rows:
        latest.setdefault(row.purpose, (row.status, row.source))
    return latest


def assert_refused(response):
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    assert WebhookEvent.objects.count() == 0
