"""What carriers and the law expect a text to carry: the brand and STOP on every marketing text,
HELP and STOP on the first text to a number, one confirmation for each opt-in by keyword."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone

from notifications import dispatch as dispatcher
from notifications import inbox, services
from notifications.models import ConversationWindow, Send
from tests.conftest import api_as
from tests.notifications.helpers import CAMPAIGN, notify, recipient
from tests.notifications.webhook_helpers import INBOUND, PHONE, inbound, post_signed

pytestmark = pytest.mark.django_db

MARKETING = {"en": "SAMIA: Reply STOP to opt out", "ar": "SAMIA: أرسل STOP لإيقاف الرسائل"}
FIRST = {"en": "SAMIA: Reply HELP for help, STOP to opt out", "ar": "SAMIA: أرسل HELP للمساعدة أو STOP لإيقاف الرسائل"}
OPT_IN = {
    "en": "SAMIA: You will get our texts again. Reply STOP to opt out, HELP for help.",
    "ar": "SAMIA: ستصلك رسائلنا من جديد. أرسل STOP لإيقاف الرسائل أو HELP للمساعدة.",
}
TEMPLATE = "HX" + "b" * 32


def _run_campaign(admin, data) -> None:
    campaign_id = admin.post("/admin/campaigns", data, format="json").json()["id"]
    admin.post(f"/admin/campaigns/{campaign_id}/schedule")
    now = timezone.now()
    Send.objects.filter(campaign_id=campaign_id).update(
        due_at=now - dt.timedelta(seconds=1), expires_at=now + dt.timedelta(hours=1)
    )
    dispatcher.dispatch(budget_seconds=5)


def _marketing(user, channel: str, body: str) -> Send:
    notification = services.notify(
        user_id=user.pk, kind="offer", title="", body=body, channels=(channel,), purpose="marketing", actor="system:t"
    )
    return notification.sends.get()


# ---------------------------------------------------------------------------------------------
# Marketing: the footer on every text, in the recipient's language


def test_every_marketing_sms_ends_with_the_brand_and_stop_in_the_recipients_language(personas, twilio):
    recipient(phone="+447700900901")
    recipient(phone="+447700900902", language="ar")

    _run_campaign(api_as(personas["admin"]), CAMPAIGN)

    posted = {m["To"]: m["Body"] for m in twilio.messages_posted()}
    assert posted == {
        "+447700900901": "A full moon reading, 20% off\n" + MARKETING["en"],
        "+447700900902": "قراءة البدر بخصم\n" + MARKETING["ar"],
    }


@pytest.mark.parametrize("variable", ["footer", "3"])
def test_every_marketing_whatsapp_template_gets_the_footer_as_its_variable(personas, twilio, settings, variable):
    settings.NOTIFICATIONS_WHATSAPP_FOOTER_VARIABLE = variable
    recipient(phone="+447700900903", channels=("whatsapp",))
    recipient(phone="+447700900904", channels=("whatsapp",), language="ar")
    templates = {
        "en": {"content_sid": TEMPLATE, "variables": {"1": "Full moon"}},
        "ar": {"content_sid": TEMPLATE, "variables": {"1": "البدر"}},
    }

    _run_campaign(api_as(personas["admin"]), {**CAMPAIGN, "channel": "whatsapp", "templates": templates})

    posted = {m["To"]: json.loads(m["ContentVariables"]) for m in twilio.messages_posted()}
    assert posted == {
        "whatsapp:+447700900903": {"1": "Full moon", variable: MARKETING["en"]},
        "whatsapp:+447700900904": {"1": "البدر", variable: MARKETING["ar"]},
    }


@pytest.mark.parametrize("language", ["en", "ar"])
def test_a_marketing_whatsapp_text_in_the_window_and_every_marketing_sms_carry_the_footer(twilio, language):
    user = recipient(channels=("sms", "whatsapp"), language=language)
    ConversationWindow.objects.create(address_hash=services.address_hash(user.phone), last_inbound_at=timezone.now())

    sends = [_marketing(user, "whatsapp", "New moon"), _marketing(user, "sms", "Offer 1"), _marketing(user, "sms", "2")]
    dispatcher.dispatch(budget_seconds=5)

    # Sent side by side: in any order.
    assert sorted(m["Body"] for m in twilio.messages_posted()) == [
        f"2\n{MARKETING[language]}",  # not only the first
        f"New moon\n{MARKETING[language]}",
        f"Offer 1\n{MARKETING[language]}",
    ]
    assert {Send.objects.get(pk=s.pk).state for s in sends} == {"sent"}


def test_a_push_carries_no_footer_where_the_same_text_does(fcm, twilio):
    user = recipient(channels=("push", "sms"), device="tok-m")

    _marketing(user, "push", "Offer")
    _marketing(user, "sms", "Offer")
    dispatcher.dispatch(budget_seconds=5)

    (request,) = fcm.requests
    assert request["message"]["notification"]["body"] == "Offer"
    assert [m["Body"] for m in twilio.messages_posted()] == [f"Offer\n{MARKETING['en']}"]


# ---------------------------------------------------------------------------------------------
# Transactional: HELP and STOP on the first text to a number, per channel


@pytest.mark.parametrize("language", ["en", "ar"])
def test_only_the_first_transactional_text_to_a_number_carries_help_and_stop(twilio, language):
    user = recipient(purpose="transactional", language=language)

    notify(user)
    dispatcher.dispatch(budget_seconds=5)
    notify(user)
    dispatcher.dispatch(budget_seconds=5)

    first, second = (m["Body"] for m in twilio.messages_posted())
    assert first == f"SAMIA\nYour reading is ready\n{FIRST[language]}"
    assert second == "SAMIA\nYour reading is ready"


def test_first_contact_is_per_number_and_channel_whoever_holds_the_number(twilio):
    user = recipient(purpose="transactional", channels=("sms", "whatsapp"), phone="+447700900910")
    ConversationWindow.objects.create(address_hash=services.address_hash(user.phone), last_inbound_at=timezone.now())
    notify(user)
    dispatcher.dispatch(budget_seconds=5)

    notify(user, channels=("whatsapp",))  # the first WhatsApp to this number
    # Another account now holds a number we texted: not a first contact. A new number is one.
    other = recipient(purpose="transactional", phone="+447700900910")
    notify(other)
    dispatcher.dispatch(budget_seconds=5)
    user.phone = "+447700900911"
    user.save(update_fields=["phone"])
    notify(user)
    dispatcher.dispatch(budget_seconds=5)

    bodies = [(m["To"], m["Body"]) for m in twilio.messages_posted()]
    assert bodies[0] == ("+447700900910", f"SAMIA\nYour reading is ready\n{FIRST['en']}")
    assert sorted(bodies[1:3]) == [  # the second run sends these two side by side
        ("+447700900910", "SAMIA\nYour reading is ready"),
        ("whatsapp:+447700900910", f"SAMIA\nYour reading is ready\n{FIRST['en']}"),
    ]
    assert bodies[3] == ("+447700900911", f"SAMIA\nYour reading is ready\n{FIRST['en']}")


def test_a_text_that_never_arrived_is_not_a_first_contact(twilio):
    user = recipient(purpose="transactional")
    twilio.script(user.phone, status=400, code=21211)  # invalid number: failed, nothing reached it
    (failed,) = notify(user)
    dispatcher.dispatch(budget_seconds=5)
    services.suppression_lift(
        suppression_id=services.Suppression.objects.get().pk, actor="system:tests", reason="address_fixed"
    )

    notify(user)
    dispatcher.dispatch(budget_seconds=5)

    failed.refresh_from_db()
    assert failed.state == "failed"
    assert [m["Body"] for m in twilio.messages_posted()][-1].endswith(FIRST["en"])


def test_a_marketing_text_is_a_first_contact_so_the_next_transactional_needs_no_footer(twilio):
    user = recipient(channels=("sms",))
    _marketing(user, "sms", "Offer")
    dispatcher.dispatch(budget_seconds=5)

    notify(user)
    dispatcher.dispatch(budget_seconds=5)

    assert [m["Body"] for m in twilio.messages_posted()] == [
        f"Offer\n{MARKETING['en']}",
        "SAMIA\nYour reading is ready",
    ]


# ---------------------------------------------------------------------------------------------
# START, YES, UNSTOP: one confirmation per opt-in


@pytest.mark.parametrize(("word", "language"), [("START", "en"), ("yes", "ar"), ("UNSTOP", "en")])
def test_an_opt_in_by_keyword_is_answered_once_in_the_recipients_language(twilio, word, language):
    user = recipient(language=language)
    inbound(twilio, "STOP")
    inbox.process()

    form = twilio.inbound_form(PHONE, word)
    answered = post_signed(INBOUND, form)
    replayed = post_signed(INBOUND, form)  # Twilio retrying the same message
    inbox.process()
    dispatcher.dispatch(budget_seconds=5)
    inbox.process()
    dispatcher.dispatch(budget_seconds=5)

    # The webhook's own answer is empty: the confirmation goes once, as a send.
    assert answered.content.decode() == '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
    assert replayed.status_code == 403
    assert [(m["To"], m["Body"]) for m in twilio.messages_posted()] == [(PHONE, OPT_IN[language])]
    (send,) = Send.objects.filter(kind="consent.opt_in")
    assert (send.user_id, send.state, send.purpose, send.encoding) == (
        user.pk,
        "sent",
        "transactional",
        "gsm7" if language == "en" else "ucs2",
    )


def test_each_opt_in_is_answered(twilio):
    recipient()
    for word in ("STOP", "START", "STOP", "START"):
        inbound(twilio, word)
        inbox.process()
        dispatcher.dispatch(budget_seconds=5)

    assert [m["Body"] for m in twilio.messages_posted()] == [OPT_IN["en"], OPT_IN["en"]]


def test_with_advanced_opt_out_twilio_answers_and_we_do_not(twilio):
    recipient()
    for word, opt_out_type in (("STOP", None), ("START", None), ("STOP", "STOP"), ("START", "START")):
        inbound(twilio, word, opt_out_type=opt_out_type)
        inbox.process()
        dispatcher.dispatch(budget_seconds=5)

    # Only the START that Twilio's Advanced Opt-Out did not handle is answered by us.
    assert [m["Body"] for m in twilio.messages_posted()] == [OPT_IN["en"]]
    assert Send.objects.filter(kind="consent.opt_in").count() == 1


def test_a_number_no_account_holds_gets_no_confirmation(twilio):
    recipient()
    inbound(twilio, "START", sender="+447700900999")
    inbound(twilio, "START")
    inbox.process()
    dispatcher.dispatch(budget_seconds=5)

    assert [m["To"] for m in twilio.messages_posted()] == [PHONE]
