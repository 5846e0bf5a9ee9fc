"""No N+1 on any back-office list (issue 15, benchmark): the queries of a changelist page do not grow
with the rows on it, for every registered model, as an admin.
"""

import re
from collections import Counter

import pytest
from django.contrib import admin
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from moderation.models import Case, ReasonCode
from samia.marketplace.models import Call, MediaAsset, Order, Payment
from tests import factories
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def _logged_in(user) -> Client:
    client = Client()
    assert client.post("/backoffice/login/", {"username": user.email, "password": PASSWORD}).status_code == 302
    return client


def _url(model) -> str:
    return f"/backoffice/{model._meta.app_label}/{model._meta.model_name}/"


def _statements(client, url) -> tuple[list[str], int]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    shapes = [re.sub(r"'(?:[^']|'')*'|\b\d+\b", "?", query["sql"]) for query in queries.captured_queries]
    return shapes, response.context["cl"].result_count


def _more_rows(personas) -> None:
    """Ten more rows of each model the factories make, each with its own people and order."""
    reason = ReasonCode.objects.order_by("code").first()
    for _ in range(10):
        client, reader = factories.UserFactory(role="client"), factories.UserFactory(role="reader")
        order = factories.OrderFactory(client=client, reader=reader, status="assigned")
        factories.PaymentFactory(order=order)
        factories.CallFactory(order=order, client=client, reader=reader)
        factories.MediaAssetFactory(owner=reader, order=order)
        Case.objects.create(subject=client, order=order, reason=reason, priority="low", sla_due_at=order.created_at)


def test_it_runs_a_constant_number_of_queries_per_changelist_page(world):
    client = _logged_in(world["personas"]["admin"])
    models = [
        model
        for model, model_admin in admin.site._registry.items()
        if model_admin.has_view_permission(_logged_in_request(client))
    ]
    before = {model: _statements(client, _url(model)) for model in models}

    # when: every list grows by ten rows or more where the factories make them
    _more_rows(world["personas"])
    after = {model: _statements(client, _url(model)) for model in models}

    # then
    for model in (Order, Payment, Call, MediaAsset, Case, type(world["personas"]["admin"])):
        assert after[model][1] >= before[model][1] + 10, model
    for model in models:
        (shapes_before, _), (shapes_after, rows) = before[model], after[model]
        # A relation under a policy of its own is prefetched: one query per relation once the page has
        # rows that point somewhere (an empty page, or all-null references, runs none). Never one per row.
        prefetched = len(admin.site._registry[model]._listed_relations(prefetched=True))
        grown = len(shapes_after) - len(shapes_before)
        assert 0 <= grown <= prefetched, (model, Counter(shapes_after) - Counter(shapes_before))
        if rows >= 3:  # a statement run once per row would show here
            repeated = [shape for shape, times in Counter(shapes_after).items() if times >= min(rows, 10)]
            assert not repeated, (model, repeated)


def _logged_in_request(client):
    return client.get("/backoffice/").wsgi_request
