"""POST /community/comments: parties of a delivered reading post pending comments, scrubbed."""

import pytest

from community.handles import handle
from community.models import Comment
from tests.community.conftest import audited, events, state
from tests.conftest import api_as

pytestmark = pytest.mark.django_db
URL = "/community/comments"


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("client", 201),
        ("reader", 201),
        ("other_client", 404),  # not a party
        ("other_reader", 404),
        ("monitor", 403),
        ("admin", 403),
        ("superadmin", 403),
        (None, 401),
    ],
)
def test_it_lets_exactly_the_parties_post(personas, thread, community_on, persona, expected):
    user = personas[persona] if persona else None
    before = state()

    response = api_as(user).post(URL, {"order_id": thread["mine"].pk, "body": "Thank you!"}, format="json")

    assert response.status_code == expected, response.content
    if expected == 201:
        comment = Comment.objects.get(pk=response.json()["id"])
        assert response.json() == {"id": comment.pk, "status": "pending", "handle": handle(user.pk)}
        assert (comment.author_id, comment.author_role, comment.order_id) == (user.pk, persona, thread["mine"].pk)
        assert comment.body_sha256 == Comment.sha256("Thank you!")
        [entry] = audited("community.comment.post")
        assert entry.details == {
            "comment_id": comment.pk,
            "order_id": thread["mine"].pk,
            "body_sha256": comment.body_sha256,
        }
        [event] = events("community.comment_posted")
        assert event.properties == {"comment_id": comment.pk, "order_id": thread["mine"].pk, "author_role": persona}
    else:
        assert state() == before


@pytest.mark.parametrize(
    ("body", "stored"),
    [
        ("Call me on +966 50 123 4567 please", "Call me on [removed] please"),
        ("write to nora.h@example.com or visit https://samia.example/x", "write to [removed] or visit [removed]"),
        ("راسلني على ٠٥٠١٢٣٤٥٦٧ أو واتساب ۰۵۵۱۲۳۴۵۶۷", "راسلني على [removed] أو واتساب [removed]"),
        ("قراءة رائعة، شكراً! زوروا www.example.com", "قراءة رائعة، شكراً! زوروا [removed]"),
        ("t.me/someone and wa.me/966501234567", "[removed] and [removed]"),
        ("Five stars, 10/10 in 2026", "Five stars, 10/10 in 2026"),
        # the obfuscations a security review found passing (separators, digit forms, invisible
        # characters, endings outside a fixed list, bracketed dots)
        ("call 055 - 123 - 4567", "call [removed]"),
        ("call \u0660\u0665\u0665 - \u0661\u0662\u0663 - \u0664\u0665\u0666\u0667 now", "call [removed] now"),
        ("try 055_123_4567 or 055*123*4567 or 055,123,4567", "try [removed] or [removed] or [removed]"),
        ("call \uff10\uff15\uff15\uff11\uff12\uff13\uff14\uff15\uff16\uff17", "call [removed]"),
        ("call \U0001d7ce\U0001d7d3\U0001d7d3\U0001d7cf\U0001d7d0\U0001d7d1\U0001d7d2\U0001d7d3", "call [removed]"),
        ("call 05\u200b5123\u20604567", "call [removed]"),
        ("see mysite.ai/contact or reader.club", "see [removed] or [removed]"),
        ("visit evil[.]com", "visit [removed]"),
        ("The reading at 10:30 was great, e.g. the third card", "The reading at 10:30 was great, e.g. the third card"),
    ],
)
def test_it_scrubs_contact_details_and_links_in_english_and_arabic(personas, thread, community_on, body, stored):
    response = api_as(personas["client"]).post(URL, {"order_id": thread["mine"].pk, "body": body}, format="json")

    assert response.status_code == 201, response.content
    comment = Comment.objects.get(pk=response.json()["id"])
    assert comment.body == stored
    assert comment.body_sha256 == Comment.sha256(stored)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"body": "Hi"}, "order_id"),
        ({"order_id": "x", "body": "Hi"}, "order_id"),
        ({"order_id": 1}, "body"),
        ({"order_id": 1, "body": "   "}, "body"),
        ({"order_id": 1, "body": "x" * 1001}, "body"),
        ({"order_id": 1, "body": "+966501234567 https://x.io a@b.co"}, "body"),  # nothing left after scrubbing
        ({"order_id": 1, "body": "1234567 " * 120}, "body"),  # longer than 1,000 once scrubbed
    ],
)
def test_it_refuses_bad_input_naming_the_field(personas, thread, community_on, payload, field):
    payload = {**payload, "order_id": thread["mine"].pk} if payload.get("order_id") == 1 else payload
    before = state()

    response = api_as(personas["client"]).post(URL, payload, format="json")

    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["details"]
    assert state() == before


def test_it_answers_409_with_the_status_on_an_order_not_delivered(personas, thread, community_on):
    response = api_as(personas["client"]).post(URL, {"order_id": thread["undelivered"].pk, "body": "Hi"}, format="json")

    assert response.status_code == 409
    assert response.json()["error"]["details"] == {"status": "approved"}


def test_it_answers_404_for_an_unknown_order(personas, community_on):
    response = api_as(personas["client"]).post(URL, {"order_id": 999999, "body": "Hi"}, format="json")

    assert response.status_code == 404
