"""Ids past bigint are absent (404), never a server error."""

import pytest

from tests.conftest import api_as

pytestmark = pytest.mark.django_db
HUGE = 10**30


def test_it_answers_an_id_past_bigint_without_a_server_error(personas, community_on):
    client, monitor = api_as(personas["client"]), api_as(personas["monitor"])

    responses = [
        client.get(f"/community/threads?order_id={HUGE}"),
        client.post("/community/comments", {"order_id": HUGE, "body": "Hi"}, format="json"),
        client.post("/community/reactions", {"order_id": HUGE, "kind": "like"}, format="json"),
        client.post("/community/flags", {"comment_id": HUGE, "reason": "spam"}, format="json"),
        monitor.post(f"/monitor/community/{HUGE}/moderate", {"action": "hide", "reason": "spam"}, format="json"),
    ]

    assert [r.status_code for r in responses] == [404, 404, 404, 404, 404]
