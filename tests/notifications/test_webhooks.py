"""Twilio webhooks and tracking links: verified, stored once in the inbox, applied by the inbox job."""

import base64
import datetime as dt
import json
import logging
from urllib.parse import urlencode

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from twilio.request_validator import RequestValidator

from notifications import dispatch as dispatcher
from notifications import inbox, links, services
from notifications.models import Bounce, Consent, ConversationWindow, Send, Suppression, WebhookEvent
from notifications.policies import INBOX_TABLE
from notifications.selectors import consent_current
from notifications.services import address_hash
from samia.rls.registry import ANONYMOUS_IDENTITY, Identity
from tests.conftest import api_as, rows_as
from tests.notifications.conftest import TWILIO_TOKEN
from tests.notifications.helpers import events, notify, recipient

pytestmark = pytest.mark.django_db

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


# ---------------------------------------------------------------------------------------------
# Inbound keywords


@pytest.mark.parametrize("body", ["STOP", " stop ", "UNSUBSCRIBE"])
def test_a_stop_keyword_revokes_every_purpose_and_suppresses_the_user(twilio, body):
    user = recipient()

    response = inbound(twilio, body)
    inbox.process()

    assert response.status_code == 200
    assert latest_consents(user) == {
        "marketing": ("revoked", "sms_keyword"),
        "transactional": ("revoked", "sms_keyword"),
        "zodiac": ("revoked", "sms_keyword"),
    }
    suppression = Suppression.objects.get(channel="sms", lifted_at=None)
    assert (suppression.user_id, suppression.reason, suppression.source) == (user.pk, "stop", "automatic")
    assert suppression.address_hash == address_hash(PHONE)
    assert WebhookEvent.objects.get().outcome == "opted_out"


def test_after_stop_no_sms_reaches_the_user(twilio):
    user = recipient()
    inbound(twilio, "STOP")
    inbox.process()

    (send,) = notify(user)
    dispatcher.dispatch(budget_seconds=5)

    send.refresh_from_db()
    assert send.state in ("opted_out", "suppressed")
    assert twilio.messages_posted() == []


def test_stop_on_sms_leaves_other_channels_alone(twilio):
    user = recipient(channels=("sms", "whatsapp"))

    inbound(twilio, "STOP")
    inbox.process()

    assert latest_consents(user, "whatsapp") == {"marketing": ("granted", "api")}
    assert not Suppression.objects.filter(channel="whatsapp").exists()


@pytest.mark.parametrize("body", ["START", "yes", "UNSTOP"])
def test_a_start_keyword_lifts_the_stop_and_restores_marketing(twilio, body):
    user = recipient()
    inbound(twilio, "STOP")
    inbox.process()

    inbound(twilio, body)
    inbox.process()

    assert not Suppression.objects.filter(lifted_at=None).exists()
    assert Suppression.objects.get().lifted_at is not None
    assert consent_current(user.pk, "sms", "marketing")
    assert consent_current(user.pk, "sms", "transactional")
    (send,) = notify(user)
    dispatcher.dispatch(budget_seconds=5)
    send.refresh_from_db()
    assert send.state == "sent"


def test_start_restores_only_what_stop_took_away(twilio):
    # The user opted in to marketing only, and never to the daily horoscope.
    user = recipient()

    inbound(twilio, "STOP")
    inbox.process()
    inbound(twilio, "START")
    inbox.process()

    assert consent_current(user.pk, "sms", "marketing")
    assert not consent_current(user.pk, "sms", "zodiac")


def test_start_does_not_undo_an_opt_out_made_in_the_app(twilio):
    user = recipient()
    services.consent_record(
        user_id=user.pk, channel="sms", purpose="marketing", granted=False, source="api", actor="system:tests"
    )

    inbound(twilio, "STOP")
    inbox.process()
    inbound(twilio, "START")
    inbox.process()

    assert not consent_current(user.pk, "sms", "marketing")
    assert consent_current(user.pk, "sms", "transactional")


def test_help_answers_with_the_help_text_and_changes_nothing(twilio, settings):
    settings.NOTIFICATIONS_HELP_TEXT = "SAMIA: help at samia.test/help & reply STOP to opt out."
    user = recipient()

    response = inbound(twilio, "HELP")
    inbox.process()

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    assert (
        response.content.decode() == '<?xml version="1.0" encoding="UTF-8"?><Response><Message>'
        "SAMIA: help at samia.test/help &amp; reply STOP to opt out.</Message></Response>"
    )
    assert latest_consents(user) == {"marketing": ("granted", "api")}
    assert not Suppression.objects.exists()


def test_an_ordinary_message_gets_an_empty_answer_and_changes_nothing(twilio):
    user = recipient()

    response = inbound(twilio, "stop it please")
    inbox.process()

    assert response.content.decode() == '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
    assert latest_consents(user) == {"marketing": ("granted", "api")}
    assert not Suppression.objects.exists()
    assert WebhookEvent.objects.get().outcome == "message"


def test_advanced_opt_out_type_wins_over_the_body(twilio):
    user = recipient()

    inbound(twilio, "bye", opt_out_type="STOP")
    inbox.process()

    assert latest_consents(user)["marketing"] == ("revoked", "sms_keyword")
    assert Suppression.objects.get(lifted_at=None).reason == "stop"


def test_a_whatsapp_message_opens_the_conversation_window(twilio):
    recipient(channels=("whatsapp",))

    response = inbound(twilio, "Hello", sender=f"whatsapp:{PHONE}")
    inbox.process()

    assert response.status_code == 200
    assert WebhookEvent.objects.get().channel == "whatsapp"
    window = ConversationWindow.objects.get()
    assert (window.channel, window.address_hash) == ("whatsapp", address_hash(PHONE))
    assert timezone.now() - window.last_inbound_at < dt.timedelta(minutes=1)


def test_processed_inbound_rows_keep_no_phone_number(twilio):
    recipient()
    inbound(twilio, "STOP")
    assert WebhookEvent.objects.get().payload["from"] == PHONE  # only until the job has run

    inbox.process()

    event = WebhookEvent.objects.get()
    assert event.payload["from"] == address_hash(PHONE)
    assert PHONE not in json.dumps(event.payload) and PHONE.lstrip("+") not in json.dumps(event.payload)


def test_inbound_webhooks_log_no_number_and_no_body(twilio, caplog):
    caplog.set_level(logging.DEBUG)
    recipient()

    inbound(twilio, "Please STOP texting me, Fatima")
    inbound(twilio, "STOP")
    inbox.process()

    text = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert PHONE not in text and "Fatima" not in text


# ---------------------------------------------------------------------------------------------
# Tracking links


def test_a_signed_open_link_marks_the_send_opened(twilio):
    send = sent_sms(recipient())

    response = api_as().get(f"/t/open/{links.sign(send.pk, 'open')}")

    assert response.status_code == 204
    assert WebhookEvent.objects.get().kind == "open"
    inbox.process()
    send.refresh_from_db()
    assert send.state == "opened" and send.opened_at is not None
    assert events("notification.opened") == [{"send_id": send.pk, "channel": "sms"}]


def test_a_signed_click_link_redirects_to_its_target_and_marks_the_send_clicked(twilio):
    send = sent_sms(recipient())

    response = api_as().get(f"/t/click/{links.sign(send.pk, 'click', target=TARGET)}")

    assert response.status_code == 302
    assert response["Location"] == TARGET
    inbox.process()
    send.refresh_from_db()
    assert send.state == "clicked" and send.clicked_at is not None and send.opened_at is not None
    assert events("notification.clicked") == [{"send_id": send.pk, "channel": "sms"}]


def test_the_url_helper_builds_a_working_public_link(twilio):
    send = sent_sms(recipient())
    url = links.url(send.pk, "click", target=TARGET)

    assert url.startswith(f"{BASE_URL}/t/click/")
    response = api_as().get(url.removeprefix(BASE_URL))

    assert response.status_code == 302 and response["Location"] == TARGET


def _tamper(text: str) -> str:
    return text[:-1] + ("A" if text[-1] != "A" else "B")


def _bad_tokens(send_id: int) -> dict[str, tuple[str, str]]:
    """(route kind, token) for every way a link can be wrong."""
    good = links.sign(send_id, "open")
    kid, payload, signature = good.split(".")
    forged = json.dumps({"s": send_id + 1, "k": "open", "e": 4102444800}).encode()
    forged_payload = base64.urlsafe_b64encode(forged).rstrip(b"=").decode()
    return {
        "expired": ("open", links.sign(send_id, "open", expires_at=timezone.now() - dt.timedelta(seconds=1))),
        "tampered_payload": ("open", f"{kid}.{forged_payload}.{signature}"),
        "tampered_signature": ("open", f"{kid}.{payload}.{_tamper(signature)}"),
        "non_ascii_signature": ("open", f"{kid}.{payload}.{signature[:-1]}é"),
        "wrong_kind": ("click", good),
        "unknown_key": ("open", f"k9.{payload}.{signature}"),
        "unsigned": ("open", f"{kid}.{payload}"),
        "garbage": ("open", "not-a-token"),
    }


@pytest.mark.parametrize(
    "case",
    [
        "expired",
        "tampered_payload",
        "tampered_signature",
        "non_ascii_signature",
        "wrong_kind",
        "unknown_key",
        "unsigned",
        "garbage",
    ],
)
def test_a_bad_tracking_link_is_refused_and_stores_nothing(twilio, case):
    send = sent_sms(recipient())
    kind, token = _bad_tokens(send.pk)[case]

    response = api_as().get(f"/t/{kind}/{token}")

    assert_refused(response)
    inbox.process()
    send.refresh_from_db()
    assert send.state == "sent"


def test_a_tracking_link_works_once(twilio):
    send = sent_sms(recipient())
    token = links.sign(send.pk, "click", target=TARGET)

    first = api_as().get(f"/t/click/{token}")
    second = api_as().get(f"/t/click/{token}")

    assert first.status_code == 302
    assert second.status_code == 403 and second.json()["error"]["details"] == {"reason": "replayed"}
    assert "Location" not in second
    assert WebhookEvent.objects.count() == 1


def test_a_link_signed_under_a_retired_key_id_still_verifies_after_rotation(twilio, settings):
    send = sent_sms(recipient())
    settings.NOTIFICATIONS_LINK_KEYS = {"k1": "old-link-secret"}
    settings.NOTIFICATIONS_LINK_KEY_ID = "k1"
    old_open = links.sign(send.pk, "open")
    old_click = links.sign(send.pk, "click", target=TARGET)

    settings.NOTIFICATIONS_LINK_KEYS = {"k1": "old-link-secret", "k2": "new-link-secret"}
    settings.NOTIFICATIONS_LINK_KEY_ID = "k2"

    assert links.sign(send.pk, "open").startswith("k2.")
    assert api_as().get(f"/t/open/{old_open}").status_code == 204
    # Once the old key is dropped, its links stop working.
    settings.NOTIFICATIONS_LINK_KEYS = {"k2": "new-link-secret"}
    response = api_as().get(f"/t/click/{old_click}")
    assert response.status_code == 403 and response.json()["error"]["details"] == {"reason": "unknown_key"}


# ---------------------------------------------------------------------------------------------
# The inbox under row-level security


def _views():
    def walk(patterns):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns)
            elif isinstance(pattern, URLPattern) and hasattr(pattern.callback, "view_class"):
                yield pattern.callback.view_class

    return list(walk(get_resolver().url_patterns))


def test_no_route_reads_the_inbox():
    readers = [
        view.__name__
        for view in _views()
        for access in getattr(view, "access", {}).values()
        if getattr(access, "table", None) == INBOX_TABLE and access.operation != "insert"
    ]
    writers = {
        view.__name__
        for view in _views()
        for access in getattr(view, "access", {}).values()
        if getattr(access, "table", None) == INBOX_TABLE
    }

    assert readers == []
    assert writers == {"TwilioStatusView", "TwilioInboundView", "TrackingView", "ClickView"}


@pytest.mark.parametrize("path", [STATUS, INBOUND])
def test_a_client_cannot_read_the_webhook_routes(twilio, personas, path):
    post_signed(STATUS, twilio.status_callback_form("SM" + "a" * 32, "delivered"))

    response = api_as(personas["client"]).get(path)

    assert response.status_code == 405
    assert "SM" + "a" * 32 not in response.content.decode()


@pytest.mark.parametrize("who", ["client", "reader", "monitor", "anonymous"])
def test_the_inbox_is_invisible_to_everyone_but_admins(twilio, personas, who):
    recipient()
    inbound(twilio, "STOP")
    post_signed(STATUS, twilio.status_callback_form("SM" + "a" * 32, "delivered"))
    identity = ANONYMOUS_IDENTITY if who == "anonymous" else Identity(personas[who].pk, who)
    admin = Identity(personas["admin"].pk, "admin")
    sql = f"SELECT count(*) FROM {INBOX_TABLE}"

    assert rows_as(identity, sql) == [(0,)]
    assert rows_as(admin, sql) == [(2,)]
