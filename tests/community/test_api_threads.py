"""GET /community/threads?order_id=: the comments one may see, oldest first, a cursor page, and reaction counts."""

import pytest

from community.handles import handle
from tests.community.conftest import comment, switch
from tests.conftest import api_as

pytestmark = pytest.mark.django_db


def _ids(response):
    return [row["id"] for row in response.json()["results"]]


def test_it_shows_a_party_the_approved_comments_and_their_own_with_reaction_counts(personas, thread, community_on):
    c = thread["comments"]

    response = api_as(personas["client"]).get(f"/community/threads?order_id={thread['mine'].pk}")

    assert response.status_code == 200
    body = response.json()
    assert _ids(response) == [c["client_pending"].pk, c["client_approved"].pk, c["reader_approved"].pk]
    assert body["reactions"] == {"like": 0, "heart": 1, "insightful": 0, "thanks": 1}
    first = body["results"][0]
    assert set(first) == {"id", "handle", "author_role", "body", "status", "created_at"}
    assert (first["handle"], first["author_role"], first["status"]) == (
        handle(personas["client"].pk),
        "client",
        "pending",
    )


def test_it_shows_staff_every_comment(personas, thread, community_on):
    response = api_as(personas["monitor"]).get(f"/community/threads?order_id={thread['mine'].pk}")

    assert len(_ids(response)) == 4


def test_it_pages_with_a_cursor(personas, thread, community_on):
    for n in range(5):
        comment(thread["mine"], personas["reader"], status="approved", body=f"Note {n}")
    client = api_as(personas["client"])

    pages, url = [], f"/community/threads?order_id={thread['mine'].pk}&page_size=3"
    while url:
        response = client.get(url)
        pages.append(_ids(response))
        url = response.json()["next"]

    assert [len(page) for page in pages] == [3, 3, 2]  # 3 of the fixture's and the 5 approved notes
    seen = [pk for page in pages for pk in page]
    assert seen == sorted(seen) and len(set(seen)) == 8


@pytest.mark.parametrize("persona", ["other_client", "other_reader", None])
def test_it_answers_404_to_someone_not_party_while_the_thread_is_private(personas, thread, community_on, persona):
    user = personas[persona] if persona else None

    response = api_as(user).get(f"/community/threads?order_id={thread['mine'].pk}")

    assert response.status_code == 404


def test_it_shows_anyone_the_approved_comments_while_community_public_is_on(personas, thread, community_on):
    switch("community_public", True)
    c = thread["comments"]

    response = api_as(None).get(f"/community/threads?order_id={thread['mine'].pk}")

    assert response.status_code == 200
    assert _ids(response) == [c["client_approved"].pk, c["reader_approved"].pk]
    assert response.json()["reactions"] == {"like": 0, "heart": 0, "insightful": 0, "thanks": 0}


@pytest.mark.parametrize(("query", "status"), [("", 400), ("?order_id=abc", 400), ("?order_id=999999", 404)])
def test_it_refuses_a_missing_or_unknown_order(personas, community_on, query, status):
    response = api_as(personas["client"]).get(f"/community/threads{query}")

    assert response.status_code == status


@pytest.mark.parametrize("cursor", ["cD1hYmM=", "cD05OTk5OTk5OTk5OTk5OTk5OTk5OTk5OQ==", "not base64 at all!"])
def test_it_answers_404_to_a_forged_cursor(personas, thread, community_on, cursor):
    response = api_as(personas["client"]).get("/community/threads", {"order_id": thread["mine"].pk, "cursor": cursor})

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
