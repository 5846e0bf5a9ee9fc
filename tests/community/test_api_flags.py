"""POST /community/flags: a party reports a comment; evidence is ids and sha256 only."""

import pytest

from community.models import CommunityFlag
from tests import factories
from tests.community.conftest import audited, events, state
from tests.conftest import api_as

pytestmark = pytest.mark.django_db
URL = "/community/flags"


@pytest.mark.parametrize(
    ("persona", "expected"),
    [("reader", 201), ("other_client", 404), ("monitor", 403), ("admin", 403), (None, 401)],
)
def test_it_lets_a_party_flag_a_comment_of_the_thread(personas, thread, community_on, persona, expected):
    user = personas[persona] if persona else None
    target = thread["comments"]["client_approved"]
    before = state()

    response = api_as(user).post(URL, {"comment_id": target.pk, "reason": "spam"}, format="json")

    assert response.status_code == expected, response.content
    if expected == 201:
        flag = CommunityFlag.objects.get()
        assert response.json() == {"id": flag.pk, "comment_id": target.pk, "reason": "spam", "evidence": []}
        assert (flag.reporter_id, flag.reason.code) == (user.pk, "spam")
        [entry] = audited("community.flag.raise")
        assert entry.details == {"flag_id": flag.pk, "comment_id": target.pk, "reason": "spam", "evidence": []}
        assert [e.properties for e in events("community.flag_raised")] == [
            {"flag_id": flag.pk, "comment_id": target.pk, "reason": "spam"}
        ]
    else:
        assert state() == before


def test_it_answers_200_for_a_repeated_flag(personas, thread, community_on):
    target = thread["comments"]["client_approved"]
    reader = api_as(personas["reader"])
    first = reader.post(URL, {"comment_id": target.pk, "reason": "spam"}, format="json")

    again = reader.post(URL, {"comment_id": target.pk, "reason": "abuse"}, format="json")

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert CommunityFlag.objects.count() == 1


def test_it_refuses_flagging_ones_own_comment(personas, thread, community_on):
    response = api_as(personas["client"]).post(
        URL, {"comment_id": thread["comments"]["client_approved"].pk, "reason": "spam"}, format="json"
    )

    assert response.status_code == 400
    assert "comment_id" in response.json()["error"]["details"]


def test_it_keeps_evidence_to_ids_and_sha256_with_media_redacted(personas, thread, community_on):
    media = factories.MediaAssetFactory(owner=personas["reader"], order=thread["mine"], sha256="ab" * 32)
    target = thread["comments"]["client_approved"]
    evidence = [f"comment:{target.pk}", f"order:{thread['mine'].pk}", f"media:{media.pk}", "cd" * 32]

    response = api_as(personas["reader"]).post(
        URL, {"comment_id": target.pk, "reason": "harassment", "evidence": evidence}, format="json"
    )

    assert response.status_code == 201, response.content
    stored = [f"comment:{target.pk}", f"order:{thread['mine'].pk}", f"media:{media.pk}:{'ab' * 32}", "cd" * 32]
    assert CommunityFlag.objects.get().evidence == stored
    assert audited("community.flag.raise")[0].details["evidence"] == [
        *stored[:2],
        f"media:{media.pk}",
        "ab" * 32,
        "cd" * 32,
    ]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"reason": "no_such_reason"}, "reason"),
        ({"reason": "spam", "evidence": ["she said hello"]}, "evidence"),
        ({"reason": "spam", "evidence": ["user:12"]}, "evidence"),
        ({"reason": "spam", "evidence": ["media:999999"]}, "evidence"),
        ({"reason": "spam", "comment_id": "x"}, "comment_id"),
    ],
)
def test_it_refuses_an_unknown_reason_or_text_as_evidence(personas, thread, community_on, payload, field):
    payload = {"comment_id": thread["comments"]["client_approved"].pk, **payload}

    response = api_as(personas["reader"]).post(URL, payload, format="json")

    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["details"]
    assert CommunityFlag.objects.count() == 0


def test_it_answers_404_for_a_comment_one_cannot_see(personas, thread, community_on):
    hidden = thread["comments"]["client_pending"]  # the reader does not see the client's pending comment

    response = api_as(personas["reader"]).post(URL, {"comment_id": hidden.pk, "reason": "spam"}, format="json")

    assert response.status_code == 404


@pytest.mark.parametrize(
    ("evidence", "named"),
    [
        ("comment:{theirs_approved}", "No such comment"),  # a thread the reader is no party to
        ("comment:{client_pending}", "No such comment"),  # the client's pending comment: the reader does not see it
        ("comment:999999999", "No such comment"),
        ("order:{theirs}", "No such order"),
        ("order:999999999", "No such order"),
    ],
)
def test_it_refuses_evidence_naming_what_the_reporter_cannot_see(personas, thread, community_on, evidence, named):
    ids = {name: c.pk for name, c in thread["comments"].items()} | {"theirs": thread["theirs"].pk}
    target = thread["comments"]["client_approved"]
    before = state()

    response = api_as(personas["reader"]).post(
        URL, {"comment_id": target.pk, "reason": "spam", "evidence": [evidence.format(**ids)]}, format="json"
    )

    assert response.status_code == 400, response.content
    assert response.json()["error"]["details"]["evidence"][0].startswith(named)
    assert state() == before
    assert audited("community.flag.raise") == []


def test_it_takes_evidence_of_another_visible_comment_of_the_thread(personas, thread, community_on):
    target, other = thread["comments"]["client_approved"], thread["comments"]["reader_hidden"]  # the reader's own

    response = api_as(personas["reader"]).post(
        URL, {"comment_id": target.pk, "reason": "spam", "evidence": [f"comment:{other.pk}"]}, format="json"
    )

    assert response.status_code == 201, response.content
    assert CommunityFlag.objects.get().evidence == [f"comment:{other.pk}"]
