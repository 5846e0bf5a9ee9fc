"""(c) The app role with no identity sees no row of any table, except rows declared public."""

import pytest
from django.db import connection

from samia.rls.binding import bound, current_identity
from samia.rls.registry import DECLARATIONS, PUBLIC, Identity
from tests.conftest import rows_as

pytestmark = pytest.mark.django_db

NOBODY = Identity(None, None)


def _has_public_rows(table):
    return any(PUBLIC in rule.roles for rule in DECLARATIONS[table].rules if rule.operation == "select")


def _has_select_rules(table):
    return any(rule.operation == "select" for rule in DECLARATIONS[table].rules)


# A table without any rule (the keyring) is not even granted: tests/ops shows a SELECT is refused.
@pytest.mark.parametrize("table", sorted(t for t in DECLARATIONS if not _has_public_rows(t) and _has_select_rules(t)))
def test_it_shows_nothing_without_an_identity(world, table):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")
        total = cursor.fetchone()[0]
    seen = rows_as(NOBODY, f"SELECT count(*) FROM {table}")[0][0]

    assert seen == 0
    assert total > 0 or not table.startswith(("marketplace_", "accounts_"))


def test_it_shows_only_todays_approved_horoscopes_without_an_identity(world):
    today_approved = {h.pk for h in world["horoscopes"] if h.approval_status == "approved" and h.date == h.date.today()}

    seen = {r[0] for r in rows_as(NOBODY, "SELECT id FROM marketplace_horoscope")}

    assert seen == today_approved


def test_it_treats_a_role_without_a_user_id_as_nobody(world):
    seen = rows_as(Identity(None, "admin"), "SELECT count(*) FROM marketplace_order")[0][0]

    assert seen == 0


def test_it_refuses_writes_without_an_identity(world):
    from django.db import DatabaseError

    order = world["orders"]["new"]
    with pytest.raises(DatabaseError), bound(NOBODY), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO marketplace_service (code, name, is_premium, base_price, currency, is_active) "
            "VALUES ('astro', 'x', false, 1, 'USD', true)"
        )
    updated = 0
    with bound(NOBODY), connection.cursor() as cursor:
        cursor.execute("UPDATE marketplace_order SET status = 'cancelled' WHERE id = %s", [order.pk])
        updated = cursor.rowcount
    assert updated == 0


def test_it_puts_the_outer_identity_back_after_a_nested_block(personas):
    outer = Identity(personas["admin"].pk, "admin")
    with bound(outer):
        with bound(Identity(personas["client"].pk, "client")):
            assert current_identity() == ("samia_app", str(personas["client"].pk), "client")
        assert current_identity() == ("samia_app", str(personas["admin"].pk), "admin")
    role, user_id, role_setting = current_identity()
    assert (user_id, role_setting) == (None, None)
    assert role != "samia_app"


def test_it_undoes_the_binding_when_the_block_fails(personas):
    with pytest.raises(RuntimeError), bound(Identity(personas["admin"].pk, "admin")):
        raise RuntimeError("boom")
    role, user_id, _ = current_identity()
    assert role != "samia_app"
    assert user_id is None
