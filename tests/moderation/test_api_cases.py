"""GET /monitor/cases: oldest due first, filters, cursor pages, bad filters."""

import pytest

from moderation import services
from samia.rls.registry import Identity
from tests.conftest import api_as
from tests.moderation.conftest import identity

pytestmark = pytest.mark.django_db


def test_the_queue_is_oldest_due_first_filterable_and_paginated(personas, make_user):
    monitor = identity(personas["monitor"])
    targets = [make_user(role="client") for _ in range(3)]
    codes = ["spam", "fraud", "copyright"]  # low 72h, critical 2h, medium 24h
    actions = [
        services.user_block(identity=monitor, user_id=u.pk, reason_code=c, duration=None, evidence=[])
        for u, c in zip(targets, codes, strict=True)
    ]
    case_ids = [a.case_id for a in actions]
    services.case_resolve(identity=Identity(personas["admin"].pk, "admin"), case_id=case_ids[2], note="Done.")
    api = api_as(personas["monitor"])

    everything = api.get("/monitor/cases").json()["results"]
    spam = api.get("/monitor/cases?reason=spam").json()["results"]
    first_page = api.get("/monitor/cases?page_size=1").json()
    second_page = api.get(first_page["next"]).json()
    bad = api.get("/monitor/cases?status=resolved")

    assert [c["id"] for c in everything] == [case_ids[1], case_ids[0]]
    assert [c["id"] for c in spam] == [case_ids[0]]
    assert [c["id"] for c in first_page["results"] + second_page["results"]] == [case_ids[1], case_ids[0]]
    assert api.get(f"/monitor/cases?subject={targets[1].pk}").json()["results"][0]["id"] == case_ids[1]
    assert api.get(f"/monitor/cases?assignee={personas['admin'].pk}").json()["results"] == []
    assert bad.status_code == 400
