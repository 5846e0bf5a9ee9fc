"""GET /t/open/<token> and /t/click/<token>: signed, expiring tracking links, counted once."""

import base64
import datetime as dt
import json

import pytest
from django.utils import timezone

from notifications import inbox, links
from notifications.models import WebhookEvent
from tests.conftest import api_as
from tests.notifications.helpers import events, recipient
from tests.notifications.webhook_helpers import BASE_URL, TARGET, assert_refused, sent_sms

pytestmark = pytest.mark.django_db


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


def test_a_tracking_link_works_on_every_tap_and_counts_once(twilio):
    send = sent_sms(recipient())
    token = links.sign(send.pk, "click", target=TARGET)

    first = api_as().get(f"/t/click/{token}")
    second = api_as().get(f"/t/click/{token}")

    assert (first.status_code, first["Location"]) == (302, TARGET)
    assert (second.status_code, second["Location"]) == (302, TARGET)
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
