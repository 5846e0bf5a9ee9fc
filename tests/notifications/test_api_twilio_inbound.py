"""POST /webhooks/twilio/inbound: STOP, START and HELP keywords, the WhatsApp window, no numbers kept."""

import datetime as dt
import json
import logging

import pytest
from django.utils import timezone

from notifications import dispatch as dispatcher
from notifications import inbox, services
from notifications.models import ConversationWindow, Suppression, WebhookEvent
from notifications.selectors import consent_current
from notifications.services import address_hash
from tests.notifications.helpers import notify, recipient
from tests.notifications.webhook_helpers import PHONE, inbound, latest_consents

pytestmark = pytest.mark.django_db


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
