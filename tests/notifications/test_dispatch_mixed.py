"""The pipelined dispatcher gives every send of a mixed batch the result the one-at-a-time dispatcher gave.

EXPECTED was produced by running this test against the dispatcher before issue 23 (sender
threads, one commit per send, commit cf10b2d) and is kept as the reference.
"""

import datetime as dt

import pytest
from django.utils import timezone

from notifications import dispatch as dispatcher
from notifications import services
from notifications.models import DeviceToken, Send, Suppression
from tests.notifications.helpers import events, notify, recipient

pytestmark = pytest.mark.django_db

# label -> (state, last_error, attempts, provider, has a message id, earliest retry in seconds: Retry-After)
EXPECTED = {
    "push ok": ("sent", "", 1, "fcm", True, None),
    "push unregistered": ("failed", "UNREGISTERED", 1, "fcm", False, None),
    "push one of two devices dead": ("sent", "", 1, "fcm", True, None),
    "push quota": ("queued", "QUOTA_EXCEEDED", 1, "", False, 7),
    "push bad token": ("failed", "INVALID_ARGUMENT", 1, "fcm", False, None),
    "push dropped": ("queued", "timeout", 1, "", False, 0),
    "push without a device": ("failed", "no_device", 1, "", False, None),
    "push opted out": ("opted_out", "", 1, "", False, None),
    "sms ok": ("sent", "", 1, "sms", True, None),
    "sms stop": ("suppressed", "21610", 1, "sms", False, None),
    "sms invalid number": ("failed", "21211", 1, "sms", False, None),
    "sms rate limited": ("queued", "20429", 1, "", False, 5),
    "sms unavailable": ("queued", "20503", 1, "", False, 0),
    "sms timeout": ("unknown", "timeout", 1, "sms", False, None),
    "sms blocked recipient": ("cancelled", "recipient_inactive", 1, "", False, None),
    "sms suppressed": ("suppressed", "", 1, "", False, None),
    "sms expired": ("expired", "", 1, "", False, None),
    "whatsapp outside the window": ("failed", "template_required", 1, "whatsapp", False, None),
}


def _mixed_batch():
    push = {"channels": ("push",), "purpose": "transactional"}
    cases = {
        "push ok": (recipient(device="tok-ok", **push), ("push",)),
        "push unregistered": (recipient(device="unregistered-1", **push), ("push",)),
        "push one of two devices dead": (recipient(device="tok-two", **push), ("push",)),
        "push quota": (recipient(device="quota-1", **push), ("push",)),
        "push bad token": (recipient(device="badtoken-1", **push), ("push",)),
        "push dropped": (recipient(device="drop-1", **push), ("push",)),
        "push without a device": (recipient(**push), ("push",)),
        "push opted out": (recipient(device="tok-out", **push), ("push",)),
        "sms ok": (recipient(phone="+447700900201", purpose="transactional"), ("sms",)),
        "sms stop": (recipient(phone="+447700900000", purpose="transactional"), ("sms",)),
        "sms invalid number": (recipient(phone="+447700901111", purpose="transactional"), ("sms",)),
        "sms rate limited": (recipient(phone="+447700902222", purpose="transactional"), ("sms",)),
        "sms unavailable": (recipient(phone="+447700903333", purpose="transactional"), ("sms",)),
        "sms timeout": (recipient(phone="+447700909999", purpose="transactional"), ("sms",)),
        "sms blocked recipient": (recipient(phone="+447700900202", purpose="transactional"), ("sms",)),
        "sms suppressed": (recipient(phone="+447700900203", purpose="transactional"), ("sms",)),
        "sms expired": (recipient(phone="+447700900204", purpose="transactional"), ("sms",)),
        "whatsapp outside the window": (
            recipient(phone="+447700900205", channels=("whatsapp",), purpose="transactional"),
            ("whatsapp",),
        ),
    }
    sends = {label: notify(user, channels=channels)[0] for label, (user, channels) in cases.items()}
    two = cases["push one of two devices dead"][0]
    DeviceToken.objects.create(user=two, platform="fcm", token="unregistered-2")
    services.consent_record(
        user_id=cases["push opted out"][0].pk,
        channel="push",
        purpose="transactional",
        granted=False,
        source="admin",
        actor="system:tests",
    )
    blocked = cases["sms blocked recipient"][0]
    blocked.is_active = False
    blocked.save(update_fields=["is_active"])
    services.suppression_add(
        channel="sms",
        reason=Suppression.Reason.MANUAL,
        actor="system:tests",
        user_id=cases["sms suppressed"][0].pk,
    )
    Send.objects.filter(pk=sends["sms expired"].pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    return sends


def _table(sends: dict, started: dt.datetime) -> dict:
    rows = {}
    for label, send in sends.items():
        send.refresh_from_db()
        waits = None
        if send.state == "queued":  # the backoff is random, never shorter than Retry-After
            waits = next(floor for floor in (7, 5, 0) if send.due_at >= started + dt.timedelta(seconds=floor))
            waits = min(waits, EXPECTED[label][5])
        rows[label] = (send.state, send.last_error, send.attempts, send.provider, bool(send.message_id), waits)
    return rows


def test_a_mixed_batch_gets_the_same_per_send_results_as_the_one_at_a_time_dispatcher(fcm, twilio):
    sends = _mixed_batch()
    started = timezone.now()

    report = dispatcher.dispatch(budget_seconds=30, batch_size=100)

    assert _table(sends, started) == EXPECTED
    assert (report["claimed"], report["sent"], report["unknown"]) == (18, 3, 1)
    assert sorted(e["send_id"] for e in events("notification.sent")) == sorted(
        sends[label].pk for label, row in EXPECTED.items() if row[0] == "sent"
    )
    assert set(DeviceToken.objects.filter(active=False).values_list("token", flat=True)) == {
        "unregistered-1",
        "unregistered-2",
        "badtoken-1",
    }
    reasons = sorted(Suppression.objects.values_list("channel", "reason"))
    assert reasons == [
        ("push", "invalid_token"),
        ("push", "invalid_token"),
        ("push", "invalid_token"),
        ("sms", "hard_bounce"),
        ("sms", "manual"),
        ("sms", "unsubscribed"),
    ]
