"""Issue 14, item 10: a valid tracking link answers every tap (204 for an open, 302 for a click);
only the first counts; link previews, scanners, prefetches and HEAD requests are answered but not
counted, so they never use up the recipient's click; forged or expired links stay 403."""

import datetime as dt

import pytest
from django.utils import timezone

from notifications import inbox, links
from notifications.models import WebhookEvent
from tests.conftest import api_as
from tests.notifications.conftest import twilio, twilio_server  # noqa: F401  (the fake Twilio fixtures)
from tests.notifications.helpers import events, recipient
from tests.notifications.webhook_helpers import TARGET, sent_sms

pytestmark = pytest.mark.django_db

BROWSER = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.1"


@pytest.mark.parametrize(("kind", "status"), [("open", 204), ("click", 302)])
def test_it_answers_every_tap_of_a_valid_link_and_counts_the_first(twilio, kind, status):  # noqa: F811
    send = sent_sms(recipient())
    token = links.sign(send.pk, kind, target=TARGET if kind == "click" else "")

    answers = [api_as().get(f"/t/{kind}/{token}", HTTP_USER_AGENT=BROWSER) for _ in range(3)]

    assert [a.status_code for a in answers] == [status] * 3
    if kind == "click":
        assert [a["Location"] for a in answers] == [TARGET] * 3
    assert WebhookEvent.objects.filter(kind=kind).count() == 1
    inbox.process()
    send.refresh_from_db()
    assert send.state == ("opened" if kind == "open" else "clicked")
    assert len(events(f"notification.{'opened' if kind == 'open' else 'clicked'}")) == 1


SCANNERS = {
    "head": ("head", {}),
    "whatsapp_preview": ("get", {"HTTP_USER_AGENT": "WhatsApp/2.23.20.0 A"}),
    "imessage_preview": ("get", {"HTTP_USER_AGENT": "facebookexternalhit/1.1 Facebot Twitterbot/1.0"}),
    "mail_scanner": ("get", {"HTTP_USER_AGENT": "Barracuda Sentinel (EE)"}),
    "browser_prefetch": ("get", {"HTTP_USER_AGENT": BROWSER, "HTTP_SEC_PURPOSE": "prefetch"}),
}


@pytest.mark.parametrize("scanner", sorted(SCANNERS))
def test_a_preview_or_scanner_is_answered_without_using_up_the_recipients_click(twilio, scanner):  # noqa: F811
    send = sent_sms(recipient())
    url = f"/t/click/{links.sign(send.pk, 'click', target=TARGET)}"
    method, headers = SCANNERS[scanner]

    fetched = getattr(api_as(), method)(url, **headers)
    assert (fetched.status_code, fetched["Location"]) == (302, TARGET)
    assert WebhookEvent.objects.count() == 0

    tapped = api_as().get(url, HTTP_USER_AGENT=BROWSER)
    assert (tapped.status_code, tapped["Location"]) == (302, TARGET)
    assert WebhookEvent.objects.get().kind == "click"


@pytest.mark.parametrize("case", ["expired", "forged"])
def test_a_forged_or_expired_link_is_still_refused(twilio, case):  # noqa: F811
    send = sent_sms(recipient())
    if case == "expired":
        token = links.sign(send.pk, "click", target=TARGET, expires_at=timezone.now() - dt.timedelta(seconds=1))
    else:
        kid, payload, _ = links.sign(send.pk, "click", target=TARGET).split(".")
        token = f"{kid}.{payload}.{'A' * 43}"

    for _ in range(2):
        response = api_as().get(f"/t/click/{token}", HTTP_USER_AGENT=BROWSER)
        assert response.status_code == 403
        assert response.json()["error"]["details"] == {"reason": "expired" if case == "expired" else "bad_signature"}
        assert "Location" not in response
    assert WebhookEvent.objects.count() == 0
