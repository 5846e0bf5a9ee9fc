"""(b) Row-level parity: each list route returns exactly the ids a raw SELECT returns under the same identity."""

import pytest

from samia.rls.registry import Identity
from tests.conftest import api_as, rows_as

pytestmark = pytest.mark.django_db

LIST_ROUTES = {
    "/orders": "marketplace_order",
    "/calls": "marketplace_call",
    "/payments": "marketplace_payment",
}
PERSONAS = ["client", "other_client", "reader", "other_reader", "monitor", "admin", "superadmin"]


def _api_ids(user, route):
    ids, url = [], route + "?page_size=100"
    while url:
        response = api_as(user).get(url)
        if response.status_code == 403:  # the role may not read this table at all
            return []
        assert response.status_code == 200, response.content
        ids += [row["id"] for row in response.json()["results"]]
        url = response.json()["next"]
    return sorted(ids)


@pytest.mark.parametrize("route", sorted(LIST_ROUTES))
@pytest.mark.parametrize("persona", PERSONAS)
def test_it_lists_exactly_the_rows_postgres_shows(world, route, persona):
    user = world["personas"][persona]

    api_ids = _api_ids(user, route)
    db_ids = sorted(r[0] for r in rows_as(Identity(user.pk, user.role), f"SELECT id FROM {LIST_ROUTES[route]}"))

    assert api_ids == db_ids


AR_LIST_ROUTES = ["/admin/ar/assets", "/ar/assets"]


@pytest.mark.parametrize("route", AR_LIST_ROUTES)
@pytest.mark.parametrize("persona", PERSONAS)
def test_it_lists_exactly_the_ar_assets_postgres_shows(world, route, persona):
    from ar.models import ArAsset, ArLink

    # given assets on the reader's order, on the other reader's order, and on none
    p, orders = world["personas"], world["orders"]
    for index, order in enumerate([orders["in_progress"], orders["approved"], None]):
        asset = ArAsset.objects.create(
            kind="overlay",
            storage_key=f"ar/parity-{index}",
            content_type="image/png",
            sha256=f"{index:064x}",
            bytes=1,
            created_by=p["admin"],
        )
        if order is not None:
            ArLink.objects.create(asset=asset, order=order, created_by=p["admin"])
    user = p[persona]

    api_ids = _api_ids(user, route)
    db_ids = sorted(r[0] for r in rows_as(Identity(user.pk, user.role), "SELECT id FROM ar_arasset"))

    assert api_ids == db_ids


@pytest.mark.parametrize("persona", [*PERSONAS, None])
def test_it_lists_exactly_the_horoscopes_postgres_shows(world, persona):
    user = world["personas"][persona] if persona else None
    identity = Identity(user.pk, user.role) if user else Identity(None, None)
    dates = sorted({h.date for h in world["horoscopes"]})

    api_ids = sorted(
        row["id"]
        for date in dates
        for row in api_as(user).get(f"/horoscopes/daily?date={date.isoformat()}").json()["results"]
    )
    db_ids = sorted(r[0] for r in rows_as(identity, "SELECT id FROM marketplace_horoscope"))

    assert api_ids == db_ids


def test_it_shows_each_persona_what_the_declaration_says(world):
    p, orders = world["personas"], world["orders"]

    def ids(persona):
        return set(_api_ids(p[persona], "/orders"))

    assert ids("client") == {orders["new"].pk, orders["assigned"].pk, orders["in_progress"].pk}
    assert ids("other_client") == {orders["awaiting"].pk, orders["approved"].pk, orders["other_new"].pk}
    assert ids("reader") == {orders["assigned"].pk, orders["in_progress"].pk, orders["awaiting"].pk}
    assert ids("other_reader") == {orders["approved"].pk}
    everything = {o.pk for o in orders.values()}
    assert ids("monitor") == ids("admin") == ids("superadmin") == everything
    assert set(_api_ids(p["reader"], "/payments")) == set()
    assert set(_api_ids(p["client"], "/payments")) == {world["payments"][0].pk}


@pytest.mark.parametrize("public", [False, True])
@pytest.mark.parametrize("persona", [*PERSONAS, None])
def test_it_lists_exactly_the_thread_comments_postgres_shows(personas, thread, community_on, persona, public):
    from tests.community.conftest import switch

    switch("community_public", public)
    user = personas[persona] if persona else None
    identity = Identity(user.pk, user.role) if user else Identity(None, None)
    for order in (thread["mine"], thread["theirs"]):
        response = api_as(user).get(f"/community/threads?order_id={order.pk}&page_size=100")
        api_ids = sorted(row["id"] for row in response.json()["results"]) if response.status_code == 200 else []
        sql = "SELECT id FROM community_comment WHERE order_id = %s"
        db_ids = sorted(r[0] for r in rows_as(identity, sql, [order.pk]))

        assert api_ids == db_ids, (persona, order.pk)
        assert response.status_code == (200 if db_ids or persona in ("monitor", "admin", "superadmin") else 404)
