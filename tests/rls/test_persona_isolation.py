"""(d) Alice owns, Bob shares nothing: no client reads or changes another client's rows, even in raw SQL."""

import pytest
from django.db import DatabaseError, connection, transaction

from samia.rls.binding import bound
from samia.rls.registry import Identity
from tests.conftest import rows_as

pytestmark = pytest.mark.django_db


def _as(user):
    return Identity(user.pk, user.role)


def _try_update(user, sql, params) -> int:
    """Rows changed by `sql` as `user`; 0 when Postgres refuses outright."""
    try:
        with transaction.atomic(), bound(_as(user)), connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.rowcount
    except DatabaseError:
        return 0


def test_a_client_sees_media_they_own_or_that_belong_to_their_orders(world):
    p, media = world["personas"], world["media"]

    def visible(persona):
        return {r[0] for r in rows_as(_as(p[persona]), "SELECT id FROM marketplace_mediaasset")}

    assert visible("client") == {media[0].pk}
    assert visible("other_client") == {media[1].pk, media[2].pk}  # the readings delivered on Bob's orders
    assert visible("reader") == {media[1].pk}
    assert visible("other_reader") == {media[2].pk}
    assert visible("monitor") == {m.pk for m in media}


@pytest.mark.parametrize(
    ("table", "index"),
    [("marketplace_mediaasset", 1), ("marketplace_call", 1), ("marketplace_payment", 1)],
)
def test_a_client_cannot_change_another_clients_rows(world, table, index):
    rows = {
        "marketplace_mediaasset": world["media"],
        "marketplace_call": world["calls"],
        "marketplace_payment": world["payments"],
    }[table]
    target = rows[index]
    column = {
        "marketplace_mediaasset": "bytes",
        "marketplace_call": "end_reason",
        "marketplace_payment": "provider_reference",
    }[table]
    value = 1 if column == "bytes" else "tampered"

    changed = _try_update(
        world["personas"]["client"], f"UPDATE {table} SET {column} = %s WHERE id = %s", [value, target.pk]
    )
    deleted = _try_update(world["personas"]["client"], f"DELETE FROM {table} WHERE id = %s", [target.pk])

    assert (changed, deleted) == (0, 0)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [target.pk])
        assert cursor.fetchone()[0] != value


def test_a_client_cannot_insert_an_order_for_someone_else(world):
    p = world["personas"]
    service_id = world["orders"]["new"].service_id

    inserted = _try_update(
        p["client"],
        "INSERT INTO marketplace_order (client_id, service_id, question, is_gold, status, rejection_reason, created_at)"
        " VALUES (%s, %s, 'x', false, 'new', '', now())",
        [p["other_client"].pk, service_id],
    )

    assert inserted == 0


def test_a_client_cannot_insert_an_order_already_approved(world):
    p = world["personas"]
    service_id = world["orders"]["new"].service_id

    inserted = _try_update(
        p["client"],
        "INSERT INTO marketplace_order (client_id, reader_id, service_id, question, is_gold, status, rejection_reason,"
        " created_at) VALUES (%s, %s, %s, 'x', false, 'approved', '', now())",
        [p["client"].pk, p["reader"].pk, service_id],
    )

    assert inserted == 0


def test_a_client_cannot_read_other_accounts(world):
    p = world["personas"]

    seen = {r[0] for r in rows_as(_as(p["client"]), "SELECT id FROM accounts_user")}
    staff_seen = {r[0] for r in rows_as(_as(p["monitor"]), "SELECT id FROM accounts_user")}

    assert seen == {p["client"].pk}
    assert staff_seen >= {u.pk for u in p.values()}


def test_a_reader_cannot_take_over_another_readers_order(world):
    p, order = world["personas"], world["orders"]["approved"]

    changed = _try_update(
        p["reader"], "UPDATE marketplace_order SET status = 'awaiting_approval' WHERE id = %s", [order.pk]
    )

    assert changed == 0


# What each persona may read, written from the rows' ownership alone (not from the declarations), so a
# widened or narrowed policy fails here on its own. Readers never see unlisted orders.
STAFF_PERSONAS = ("monitor", "admin", "superadmin")


def _expected(world, persona: str) -> dict[str, set[int]]:
    me = world["personas"][persona].pk
    orders = list(world["orders"].values())
    if persona in STAFF_PERSONAS:
        return {
            "marketplace_order": {o.pk for o in orders},
            "marketplace_call": {c.pk for c in world["calls"]},
            "marketplace_payment": {p.pk for p in world["payments"]},
        }
    return {
        "marketplace_order": {
            o.pk for o in orders if o.client_id == me or (o.reader_id == me and o.status != "unlisted")
        },
        "marketplace_call": {c.pk for c in world["calls"] if me in (c.client_id, c.reader_id)},
        "marketplace_payment": {p.pk for p in world["payments"] if p.order.client_id == me},
    }


@pytest.mark.parametrize("persona", ["client", "other_client", "reader", "other_reader", *STAFF_PERSONAS])
@pytest.mark.parametrize("table", ["marketplace_order", "marketplace_call", "marketplace_payment"])
def test_each_persona_reads_exactly_the_rows_it_owns_or_serves(world, persona, table):
    seen = {r[0] for r in rows_as(_as(world["personas"][persona]), f"SELECT id FROM {table}")}

    assert seen == _expected(world, persona)[table]


def test_the_expectations_are_not_empty_for_the_clients(world):
    # guards the test above against a world in which every expectation is trivially empty
    for persona in ("client", "other_client"):
        assert all(_expected(world, persona).values()), persona
