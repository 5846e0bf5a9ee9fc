"""Postgres enforces the exact order state machine and the columns a transition may touch."""

import importlib
import itertools

import pytest
from django.db import DatabaseError, connection, transaction

from samia.marketplace.states import ALL_TRANSITIONS, HELD, HOLDABLE, OrderStatus, transition_guard_sql
from samia.rls.binding import bound
from samia.rls.registry import ROLES, Identity
from tests import factories

pytestmark = pytest.mark.django_db

ALLOWED = {
    (s, target, role) for t in ALL_TRANSITIONS.values() for s in t.sources for target in t.targets for role in t.roles
}


def _update_as(user, sql, params) -> bool:
    try:
        with transaction.atomic(), bound(Identity(user.pk, user.role)), connection.cursor() as cursor:
            cursor.execute(sql, params)
            changed = cursor.rowcount == 1
            transaction.set_rollback(True)
            return changed
    except DatabaseError:
        return False


def test_the_migration_carries_the_current_state_machine():
    migration = importlib.import_module("samia.marketplace.migrations.0006_order_guard_with_holds_and_media_guard")

    assert transition_guard_sql() == migration.GUARD_SQL


@pytest.mark.parametrize("role", ROLES)
def test_it_allows_exactly_the_declared_transitions(personas, role):
    user = personas[role]
    reader = personas["reader"]
    statuses = list(OrderStatus.values)
    outcomes = {}
    for source, target in itertools.permutations(statuses, 2):
        # a held order was held from the state it is asked to return to, when that is possible at all
        held_from = (target if target in HOLDABLE else "assigned") if source in HELD else ""
        order = factories.OrderFactory(
            client=personas["client"], reader=None if source == "new" else reader, status=source, held_from=held_from
        )
        outcomes[(source, target)] = _update_as(
            user,
            "UPDATE marketplace_order SET status = %s, reader_id = coalesce(reader_id, %s) WHERE id = %s",
            [target, reader.pk if target == "assigned" else None, order.pk],
        )

    assert {pair for pair, allowed in outcomes.items() if allowed} == {(s, t) for s, t, r in ALLOWED if r == role}


def test_it_keeps_the_question_fixed_even_in_a_legal_transition(personas):
    order = factories.OrderFactory(client=personas["client"])

    changed = _update_as(
        personas["client"],
        "UPDATE marketplace_order SET status = 'cancelled', question = 'rewritten' WHERE id = %s",
        [order.pk],
    )

    assert changed is False


def test_it_changes_the_reader_only_by_assignment(personas):
    order = factories.OrderFactory(client=personas["client"], reader=personas["reader"], status="awaiting_approval")

    changed = _update_as(
        personas["admin"],
        "UPDATE marketplace_order SET reader_id = %s WHERE id = %s",
        [personas["other_reader"].pk, order.pk],
    )

    assert changed is False


def test_it_leaves_the_service_role_free(personas):
    order = factories.OrderFactory(client=personas["client"])

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE marketplace_order SET status = 'delivered', reader_id = %s WHERE id = %s",
            [personas["reader"].pk, order.pk],
        )
        assert cursor.rowcount == 1


@pytest.mark.parametrize("role", ["monitor", "admin", "superadmin"])
def test_it_remembers_where_a_held_order_was_and_releases_it_only_there(personas, role):
    user = personas[role]
    order = factories.OrderFactory(client=personas["client"], reader=personas["reader"], status="in_progress")

    def update(sql):
        with transaction.atomic(), bound(Identity(user.pk, user.role)), connection.cursor() as cursor:
            cursor.execute(sql, [order.pk])

    update("UPDATE marketplace_order SET status = 'on_hold' WHERE id = %s")
    update("UPDATE marketplace_order SET status = 'unlisted' WHERE id = %s")
    order.refresh_from_db()
    assert (order.status, order.held_from) == ("unlisted", "in_progress")
    with pytest.raises(DatabaseError):
        update("UPDATE marketplace_order SET status = 'approved' WHERE id = %s")
    update("UPDATE marketplace_order SET status = 'in_progress' WHERE id = %s")
    order.refresh_from_db()
    assert (order.status, order.held_from) == ("in_progress", "")
