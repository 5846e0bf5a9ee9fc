"""SMS encoding and segments: hand-computed counts, stored on each send, shown before a campaign goes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from notifications import dispatch as dispatcher
from notifications.models import Send
from tests.conftest import api_as
from tests.notifications.helpers import CAMPAIGN, due_now, notify, recipient

# 28 GSM-7 characters / 31 UCS-2 code units ("SAMIA: " 7, "أرسل" 4, " STOP " 6, "لإيقاف" 6, " " 1, "الرسائل" 7).
FOOTER_EN = "SAMIA: Reply STOP to opt out"
FOOTER_AR = "SAMIA: أرسل STOP لإيقاف الرسائل"
BEH = "ب"  # an Arabic letter: one UTF-16 code unit, not in GSM 03.38
EMOJI = "😀"  # outside the BMP: a surrogate pair, two code units

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a" * 160, ("gsm7", 1, 160)),  # one message holds 160 septets
        ("a" * 161, ("gsm7", 2, 161)),  # concatenated: 153 per part
        ("a" * 306, ("gsm7", 2, 306)),
        ("a" * 307, ("gsm7", 3, 307)),
        ("é@£$¥èùìòÇ" + "a" * 150, ("gsm7", 1, 160)),  # accents of the basic table cost one
        ("€" * 80, ("gsm7", 1, 160)),  # the extension table costs two: escape + character
        ("€" * 80 + "a", ("gsm7", 2, 161)),
        ("{}[]~^|\\" + "a" * 144, ("gsm7", 1, 160)),
        ("{}[]~^|\\" + "a" * 145, ("gsm7", 2, 161)),
        # 152 + 154 = 306 septets = 2 x 153, but a € cannot straddle parts: 152 | 76 € | 1 €
        ("a" * 152 + "€" * 77, ("gsm7", 3, 306)),
        ("ç" + "a" * 69, ("ucs2", 1, 70)),  # ç is not GSM 03.38 (only Ç is): the whole text is UCS-2
        (BEH * 70, ("ucs2", 1, 70)),
        (BEH * 71, ("ucs2", 2, 71)),  # concatenated: 67 per part
        (BEH * 134, ("ucs2", 2, 134)),
        (BEH * 135, ("ucs2", 3, 135)),
        (EMOJI * 35, ("ucs2", 1, 70)),  # an emoji counts two
        (EMOJI * 35 + "a", ("ucs2", 2, 71)),
        # 66 + 68 = 134 units = 2 x 67, but a surrogate pair is never split: 66 | 33 emoji | 1 emoji
        (BEH * 66 + EMOJI * 34, ("ucs2", 3, 134)),
        (FOOTER_EN, ("gsm7", 1, 28)),
        (FOOTER_AR, ("ucs2", 1, 31)),
        ("a" * 131 + "\n" + FOOTER_EN, ("gsm7", 1, 160)),
        ("a" * 132 + "\n" + FOOTER_EN, ("gsm7", 2, 161)),  # the footer tips it into two parts
        (BEH * 38 + "\n" + FOOTER_AR, ("ucs2", 1, 70)),
        (BEH * 39 + "\n" + FOOTER_AR, ("ucs2", 2, 71)),
    ],
)
def test_it_counts_encoding_segments_and_units(text, expected):
    from notifications.dispatch.segments import measure

    assert tuple(measure(text)) == expected


def test_the_alphabet_is_the_codecs_basic_and_extension_tables():
    from notifications.dispatch.segments import GSM_COSTS

    expected = {}
    for code in range(0x3000):  # Latin, Greek, Cyrillic, Arabic, punctuation, the euro sign
        character = chr(code)
        try:
            expected[character] = len(character.encode("gsm03.38"))
        except UnicodeEncodeError:
            continue
    del expected["\x1b"]  # the escape itself is not a character of a text
    assert expected == GSM_COSTS
    assert len(expected) == 137 and sorted(c for c, cost in expected.items() if cost == 2) == sorted("\x0c[\\]^{|}~€")


def go_now(campaign_id: int) -> None:
    """Make a campaign's sends due now, inside their window (its send_on is in the past)."""
    sends = Send.objects.filter(campaign_id=campaign_id)
    due_now(*sends)
    sends.update(expires_at=timezone.now() + dt.timedelta(hours=1))


def _campaign(admin, english_body: str, arabic_body: str = "قراءة البدر بخصم") -> int:
    data = {**CAMPAIGN, "templates": {"en": {"title": "", "body": english_body}, "ar": {"body": arabic_body}}}
    return admin.post("/admin/campaigns", data, format="json").json()["id"]


def test_the_preview_shows_the_text_with_its_footer_encoding_and_segments(personas):
    admin = api_as(personas["admin"])
    campaign_id = _campaign(admin, "a" * 132)

    english = admin.get(f"/admin/campaigns/{campaign_id}/preview?language=en").json()
    arabic = admin.get(f"/admin/campaigns/{campaign_id}/preview?language=ar").json()

    assert english["text"] == "a" * 132 + "\n" + FOOTER_EN
    assert (english["encoding"], english["segments"]) == ("gsm7", 2)  # 161 septets
    assert arabic["text"] == "قراءة البدر بخصم\n" + FOOTER_AR
    assert (arabic["encoding"], arabic["segments"]) == ("ucs2", 1)  # 16 + 1 + 31 = 48 units


def test_segments_are_planned_stored_on_each_send_and_counted_in_stats(personas, twilio):
    admin = api_as(personas["admin"])
    campaign_id = _campaign(admin, "a" * 132, BEH * 39)
    english = recipient(phone="+447700900801")
    arabic = recipient(phone="+447700900802", language="ar")

    admin.post(f"/admin/campaigns/{campaign_id}/schedule")

    # Known before anything goes out: 161 septets (2 parts) and 71 code units (2 parts).
    planned = {s.user_id: (s.encoding, s.segments) for s in Send.objects.filter(campaign_id=campaign_id)}
    assert planned == {english.pk: ("gsm7", 2), arabic.pk: ("ucs2", 2)}
    stats = admin.get(f"/admin/campaigns/{campaign_id}/stats").json()
    assert (stats["segments_planned"], stats["segments_sent"]) == (4, 0)

    go_now(campaign_id)
    dispatcher.dispatch(budget_seconds=5)

    posted = {m["To"]: m["Body"] for m in twilio.messages_posted()}
    assert posted == {
        "+447700900801": "a" * 132 + "\n" + FOOTER_EN,
        "+447700900802": BEH * 39 + "\n" + FOOTER_AR,
    }
    stats = admin.get(f"/admin/campaigns/{campaign_id}/stats").json()
    assert (stats["sent"], stats["segments_planned"], stats["segments_sent"]) == (2, 4, 4)


def test_a_tracked_link_is_measured_with_the_text_that_goes(personas, twilio):
    from notifications.dispatch.segments import measure

    admin = api_as(personas["admin"])
    data = {**CAMPAIGN, "link_url": "https://samia.test/offers/42"}
    campaign_id = admin.post("/admin/campaigns", data, format="json").json()["id"]
    recipient(phone="+447700900803")
    admin.post(f"/admin/campaigns/{campaign_id}/schedule")
    preview = admin.get(f"/admin/campaigns/{campaign_id}/preview?language=en").json()

    go_now(campaign_id)
    (send,) = Send.objects.filter(campaign_id=campaign_id)
    dispatcher.dispatch(budget_seconds=5)

    (posted,) = twilio.messages_posted()
    send.refresh_from_db()
    body = posted["Body"]
    assert body.startswith("A full moon reading, 20% off\nhttps://api.samia.test/t/click/")
    assert body.endswith("\n" + FOOTER_EN)
    assert (send.encoding, send.segments) == tuple(measure(body))[:2] == ("gsm7", 2)
    assert (preview["encoding"], preview["segments"]) == ("gsm7", 2)


def test_a_transactional_sms_stores_its_encoding_and_segments(twilio):
    user = recipient(purpose="transactional", language="ar")

    (send,) = notify(user, body=BEH * 40)
    dispatcher.dispatch(budget_seconds=5)

    send.refresh_from_db()
    (posted,) = twilio.messages_posted()
    # "SAMIA" 5 + 1 + 40 + 1 + the Arabic first-text footer (48 units) = 95 code units: 2 parts.
    assert posted["Body"] == "SAMIA\n" + BEH * 40 + "\nSAMIA: أرسل HELP للمساعدة أو STOP لإيقاف الرسائل"
    assert (send.state, send.encoding, send.segments) == ("sent", "ucs2", 2)


def test_push_sends_have_no_encoding(fcm):
    user = recipient(channels=("push",), purpose="transactional", device="token-1")

    (send,) = notify(user, channels=("push",))
    dispatcher.dispatch(budget_seconds=5)

    send.refresh_from_db()
    assert (send.state, send.encoding, send.segments, send.address_hash) == ("sent", "", None, "")
