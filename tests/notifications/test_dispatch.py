"""The dispatcher against the real pyfcm and twilio clients talking to local fake servers."""

import datetime as dt
import logging

import pytest
from django.utils import timezone

from notifications import dispatch as dispatcher
from notifications import inbox, services
from notifications.models import DeviceToken, Send, Suppression
from samia.events.registry import schema_for
from tests.conftest import api_as
from tests.notifications.helpers import due_now, events, notify, opted_in, recipient, zone_at_local_hour

pytestmark = pytest.mark.django_db


def _state(send) -> Send:
    send.refresh_from_db()
    return send


def test_an_sms_goes_out_through_twilio_and_records_the_sid(twilio):
    user = recipient()
    (send,) = notify(user)

    report = dispatcher.dispatch(budget_seconds=5)

    send = _state(send)
    assert report["sent"] == 1
    assert send.state == "sent" and send.message_id.startswith("SM") and send.provider == "sms"
    (posted,) = twilio.messages_posted()
    assert posted["To"] == "+447700900123"
    assert posted["StatusCallback"] == f"https://api.samia.test/webhooks/twilio/status?send={send.pk}"
    (event,) = events("notification.sent")
    assert event == {"send_id": send.pk, "channel": "sms"}
    schema_for("notification.sent", 1).validate({"channel": "sms"})


def test_a_push_goes_to_every_active_device_with_a_stable_collapse_id(fcm):
    user = recipient(channels=("push",), purpose="transactional", device="tok-a")
    (send,) = notify(user, channels=("push",))

    dispatcher.dispatch(budget_seconds=5)

    send = _state(send)
    assert send.state == "sent" and send.message_id.startswith("projects/")
    (request,) = fcm.requests
    assert request["message"]["token"] == "tok-a"
    assert request["message"]["android"]["collapse_key"] == f"samia-{send.pk}"
    assert request["message"]["data"]["send_id"] == str(send.pk)


def test_opting_out_between_planning_and_sending_stops_the_send(twilio):
    user = recipient()
    (send,) = notify(user, kind="offer.weekly")
    Send.objects.filter(pk=send.pk).update(purpose="marketing")
    opted_in(user, "sms")
    from notifications import services

    services.consent_record(
        user_id=user.pk, channel="sms", purpose="marketing", granted=False, source="api", actor="system:tests"
    )

    dispatcher.dispatch(budget_seconds=5)

    assert _state(send).state == "opted_out"
    assert twilio.messages_posted() == []


def test_an_unconfigured_provider_defers_and_never_fakes_success(unconfigured):
    user = recipient()
    (send,) = notify(user)

    report = dispatcher.dispatch(budget_seconds=5)

    send = _state(send)
    assert report["deferred"] == 1
    assert send.state == "queued" and send.last_error == "provider_unavailable" and send.attempts == 0
    assert send.due_at > timezone.now() + dt.timedelta(seconds=60)


def test_21610_suppresses_the_number_and_is_not_retried(twilio):
    user = recipient(phone="+447700900000")
    (send,) = notify(user)

    dispatcher.dispatch(budget_seconds=5)

    send = _state(send)
    assert send.state == "suppressed" and send.last_error == "21610"
    assert Suppression.objects.filter(channel="sms", user=user, reason="unsubscribed", lifted_at=None).exists()
    (second,) = notify(user)
    dispatcher.dispatch(budget_seconds=5)
    assert _state(second).state == "suppressed"
    assert len(twilio.messages_posted()) == 1


def test_a_retryable_answer_waits_at_least_retry_after(twilio):
    user = recipient(phone="+447700902222")
    (send,) = notify(user)

    dispatcher.dispatch(budget_seconds=5)

    send = _state(send)
    assert send.state == "queued" and send.attempts == 1 and send.last_error == "20429"
    assert send.due_at >= timezone.now() + dt.timedelta(seconds=4)


def test_an_sms_with_an_unknown_outcome_is_never_sent_again(twilio):
    user = recipient(phone="+447700909999")  # the fake answers after the client timed out
    (send,) = notify(user)

    dispatcher.dispatch(budget_seconds=5)
    due_now(send)
    dispatcher.dispatch(budget_seconds=5)

    assert _state(send).state == "unknown"
    assert len(twilio.messages_posted()) == 1


def test_an_unregistered_token_is_deactivated_and_suppressed(fcm):
    user = recipient(channels=("push",), purpose="transactional", device="unregistered-1")
    (send,) = notify(user, channels=("push",))

    dispatcher.dispatch(budget_seconds=5)

    assert _state(send).state == "failed"
    device = DeviceToken.objects.get(user=user)
    assert not device.active and device.deactivated_reason == "UNREGISTERED"
    assert Suppression.objects.filter(channel="push", reason="invalid_token", lifted_at=None).count() == 1


def test_quiet_hours_move_a_marketing_send_to_the_morning(twilio, settings):
    now = timezone.now()
    zone = zone_at_local_hour(0)
    user = recipient(zone=zone)
    (send,) = notify(user, kind="offer.weekly")
    Send.objects.filter(pk=send.pk).update(purpose="marketing", expires_at=now + dt.timedelta(days=1))

    dispatcher.dispatch(budget_seconds=5)

    send = _state(send)
    assert send.state == "queued" and send.last_error == "quiet_hours" and send.attempts == 0
    assert twilio.messages_posted() == []


def test_logs_carry_no_number_and_no_body(twilio, caplog):
    caplog.set_level(logging.DEBUG)
    user = recipient(phone="+447700900555")
    notify(user, body="Secret reading text")

    dispatcher.dispatch(budget_seconds=5)

    text = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert "+447700900555" not in text and "Secret reading text" not in text


def test_an_ios_push_goes_through_apns_over_http2(apns):
    user = recipient(channels=("push",), purpose="transactional", device="a1b2c3", platform="apns")
    (send,) = notify(user, channels=("push",), critical=True)

    dispatcher.dispatch(budget_seconds=5)

    send = _state(send)
    assert send.state == "sent" and send.provider == "apns"
    (request,) = apns.requests
    assert request["token"] == "a1b2c3"
    assert request["headers"]["apns-collapse-id"] == f"samia-{send.pk}"
    assert request["headers"]["apns-priority"] == "10"
    assert request["payload"]["send_id"] == str(send.pk)


def test_apns_410_deactivates_a_token_only_if_it_was_not_registered_again_since(apns):
    user = recipient(channels=("push",), purpose="transactional", device="d00d", platform="apns")
    device = DeviceToken.objects.get(user=user)
    # Apple says the token died a minute before the app registered it again: keep it.
    died = device.registered_at - dt.timedelta(minutes=1)
    apns.script("d00d", 410, "Unregistered", timestamp_ms=int(died.timestamp() * 1000))
    (first,) = notify(user, channels=("push",))
    dispatcher.dispatch(budget_seconds=5)
    device.refresh_from_db()
    assert device.active and _state(first).state == "failed"

    # Now it died after its last registration: deactivate it.
    later = timezone.now() + dt.timedelta(minutes=1)
    apns.script("d00d", 410, "Unregistered", timestamp_ms=int(later.timestamp() * 1000))
    (second,) = notify(user, channels=("push",))
    dispatcher.dispatch(budget_seconds=5)
    device.refresh_from_db()
    assert not device.active and device.deactivated_reason == "Unregistered"
    assert _state(second).state == "failed"


def test_a_push_with_an_unknown_outcome_is_retried_under_the_same_collapse_id(fcm):
    user = recipient(channels=("push",), purpose="transactional", device="tok-u")
    fcm.script("tok-u", status=200, error_code="", delay=3.0)  # answers after the client gave up
    (send,) = notify(user, channels=("push",))

    dispatcher.dispatch(budget_seconds=5)
    send = _state(send)
    assert send.state == "queued" and send.last_error == "timeout"
    due_now(send)
    dispatcher.dispatch(budget_seconds=5)

    assert _state(send).state == "sent"
    keys = {r["message"]["android"]["collapse_key"] for r in fcm.requests}
    assert keys == {f"samia-{send.pk}"} and len(fcm.requests) == 2


def test_a_late_receipt_settles_an_sms_whose_outcome_was_unknown(twilio):
    from tests.notifications.test_webhooks import post_signed

    user = recipient(phone="+447700909999")  # times out: Twilio took it, we never heard
    (send,) = notify(user)
    dispatcher.dispatch(budget_seconds=5)
    assert _state(send).state == "unknown"

    form = twilio.status_callback_form("SM" + "f" * 32, "delivered")
    assert post_signed(f"/webhooks/twilio/status?send={send.pk}", form).status_code == 204
    inbox.process()

    send = _state(send)
    assert send.state == "delivered" and send.message_id == "SM" + "f" * 32


def test_a_result_is_not_recorded_over_a_claim_that_another_worker_now_holds(twilio):
    from notifications.dispatch import checks
    from notifications.dispatch.delivery import conclude
    from samia.providers.base import Outcome, Result

    user = recipient()
    (send,) = notify(user)
    (work,) = dispatcher.load(dispatcher.claim(10))
    # The lease lapsed, the reaper put it back, and another worker claimed it again.
    Send.objects.filter(pk=send.pk).update(lease_until=work.lease_until + dt.timedelta(seconds=1))

    report = dispatcher.Report()
    settlement = conclude(work, Result(Outcome.SENT, message_id="SMold"), "sms", False, timezone.now(), report)
    assert checks.settle([settlement]) == set()

    send = _state(send)
    assert send.state == "queued" and send.message_id == ""
    assert events("notification.sent") == []


def test_a_send_claimed_too_often_without_a_result_fails_instead_of_looping(fcm, settings):
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 3
    user = recipient(channels=("push",), purpose="transactional", device="tok-loop")
    (send,) = notify(user, channels=("push",))
    Send.objects.filter(pk=send.pk).update(attempts=3)  # three lost workers already

    dispatcher.dispatch(budget_seconds=5)

    send = _state(send)
    assert send.state == "failed" and send.last_error == "too_many_attempts"
    assert fcm.requests == []


def test_whatsapp_outside_the_24_hour_window_sends_the_approved_template(twilio, settings):
    settings.NOTIFICATIONS_WHATSAPP_TEMPLATES = {"order.delivered": "HX" + "a" * 32}
    user = recipient(channels=("whatsapp",), purpose="transactional", phone="+447700900401")
    (outside,) = notify(user, channels=("whatsapp",))
    dispatcher.dispatch(budget_seconds=5)
    from notifications.models import ConversationWindow

    ConversationWindow.objects.create(
        address_hash=services.address_hash("+447700900401"), last_inbound_at=timezone.now()
    )
    (inside,) = notify(user, channels=("whatsapp",))
    dispatcher.dispatch(budget_seconds=5)

    first, second = twilio.messages_posted()
    assert first["To"] == "whatsapp:+447700900401" and first["ContentSid"] == "HX" + "a" * 32 and "Body" not in first
    assert second["Body"].endswith("Your reading is ready") and "ContentSid" not in second
    outside.refresh_from_db()
    inside.refresh_from_db()
    assert outside.state == inside.state == "sent"


def test_whatsapp_outside_the_window_without_a_template_fails_rather_than_send_free_form(twilio, settings):
    settings.NOTIFICATIONS_WHATSAPP_TEMPLATES = {}
    user = recipient(channels=("whatsapp",), purpose="transactional", phone="+447700900402")
    (send,) = notify(user, channels=("whatsapp",))

    dispatcher.dispatch(budget_seconds=5)

    send.refresh_from_db()
    assert send.state == "failed" and send.last_error == "template_required"
    assert twilio.messages_posted() == []


def test_the_sandbox_records_and_labels_instead_of_sending(settings):
    settings.PROVIDERS = {name: "samia.providers.sandbox.SandboxProvider" for name in ("sms", "fcm")}
    user = recipient()
    (send,) = notify(user)

    dispatcher.dispatch(budget_seconds=5)

    send.refresh_from_db()
    assert send.state == "sent" and send.sandbox and send.message_id.startswith("sandbox-")
    assert api_as(user).get("/me/notifications").json()[0]["sandbox"] is True


def test_a_platform_without_credentials_does_not_hold_back_the_users_other_devices(fcm, settings):
    settings.APNS_KEY_PEM = ""  # APNs unconfigured, FCM configured
    user = recipient(channels=("push",), purpose="transactional", device="tok-android")
    from notifications.models import DeviceToken

    DeviceToken.objects.create(user=user, platform="apns", token="abcdef01")
    (send,) = notify(user, channels=("push",))

    dispatcher.dispatch(budget_seconds=5)

    send.refresh_from_db()
    assert send.state == "sent" and send.provider == "fcm"
    assert [r["message"]["token"] for r in fcm.requests] == ["tok-android"]
