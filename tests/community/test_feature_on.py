"""samia.feature_on, the check in every community policy: compiled from waffle_switch, exact all the same.

The function is recompiled by a statement trigger on waffle_switch with the names of the switches
that are on and a generation number; a statement whose definition is not the latest compile asks the
table (samia.feature_lookup). See samia/features/sql.py.
"""

import psycopg
import pytest
from django.db import DatabaseError, connection, transaction

from samia.rls.binding import bound
from tests.community.conftest import identity, switch
from tests.conftest import rows_as

pytestmark = pytest.mark.django_db


def owner(sql: str, params=None) -> list:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchall() if cursor.description else []


def inlined(name: str) -> str:
    """The expression the planner puts in a policy's initPlan for FeatureOn(name)."""
    plan = owner(f"EXPLAIN VERBOSE SELECT 1 WHERE (SELECT samia.feature_on('{name}'))")
    return next(line for (line,) in plan if "CASE WHEN" in line)


def generation() -> int:
    return owner("SELECT pg_sequence_last_value('samia.feature_generation')")[0][0]


def test_a_change_recompiles_the_function_into_constants_the_planner_inlines(personas):
    switch("community", True)

    expression = inlined("community")

    assert f"pg_sequence_last_value('samia.feature_generation'::regclass) = {generation()}) THEN true" in expression
    assert f"= {generation()}) THEN false" in inlined("community_public")
    assert f"= {generation()}) THEN false" in inlined("no_such_switch")
    assert owner("SELECT samia.feature_on('community'), samia.feature_on('community_public')") == [(True, False)]


@pytest.mark.parametrize("on", [True, False])
def test_a_statement_asks_the_table_once_the_generation_moved_on(personas, thread, on):
    switch("community", on)
    # Another transaction compiling (or one that rolled back) moves the sequence on: the compiled
    # answer may be out of date, so the table decides. Here the trigger is off, so the table and
    # the compiled answer disagree, and only the table's answer may come out.
    owner("ALTER TABLE waffle_switch DISABLE TRIGGER waffle_switch_feature_compile")
    owner("UPDATE waffle_switch SET active = %s WHERE name = 'community'", [not on])
    owner("SELECT nextval('samia.feature_generation')")

    assert owner("SELECT samia.feature_on('community')") == [(not on,)]
    seen = rows_as(identity(personas["monitor"]), "SELECT count(*) FROM community_comment")
    assert seen == [(len(thread["comments"]) if not on else 0,)]


def test_a_rolled_back_change_leaves_the_switch_as_it_was(personas, thread):
    switch("community", True)
    owner("SAVEPOINT turning")
    switch("community", False)
    owner("ROLLBACK TO SAVEPOINT turning")

    assert owner("SELECT samia.feature_on('community')") == [(True,)]
    assert rows_as(identity(personas["monitor"]), "SELECT count(*) FROM community_comment") == [(6,)]


def test_the_app_role_can_neither_recompile_nor_move_the_generation_nor_set_the_answer(personas, thread):
    refused = []
    with bound(identity(personas["monitor"])):
        for statement in (
            "CREATE OR REPLACE FUNCTION samia.feature_on(switch_name text) RETURNS boolean LANGUAGE sql AS $$ SELECT true $$",
            "SELECT setval('samia.feature_generation', 1)",
            "SELECT nextval('samia.feature_generation')",
            "ALTER TABLE waffle_switch DISABLE TRIGGER waffle_switch_feature_compile",
        ):
            try:
                with transaction.atomic(), connection.cursor() as cursor:
                    cursor.execute(statement)
            except DatabaseError as error:
                refused.append("permission denied" in str(error) or "must be owner" in str(error))
        with connection.cursor() as cursor:
            cursor.execute("UPDATE waffle_switch SET active = true WHERE name = 'community'")
            assert cursor.rowcount == 0  # a monitor: no row to change
            # Nothing it can set is read: a setting by the switch's name changes nothing.
            cursor.execute("SELECT set_config('samia.feature_community', 'on', true), samia.feature_on('community')")
            assert cursor.fetchall() == [("on", False)]
            cursor.execute("SELECT count(*) FROM community_comment")
            assert cursor.fetchall() == [(0,)]

    assert refused == [True] * 4


def _connect(**options) -> psycopg.Connection:
    """A connection of its own to the test database, as the owner: its commits are real."""
    params = connection.get_connection_params()
    return psycopg.connect(
        dbname=connection.settings_dict["NAME"],
        **{k: params[k] for k in ("host", "port", "user") if k in params},
        **options,
    )


@pytest.fixture
def committed_switch():
    """The community switch turned on and off by real commits, put back off at the end."""
    admin = _connect(autocommit=True)

    def turn(on: bool) -> None:
        admin.execute("UPDATE waffle_switch SET active = %s WHERE name = 'community'", [on])

    yield turn
    turn(False)
    admin.close()


def test_a_transaction_already_running_sees_a_committed_change_at_its_next_statement(committed_switch):
    # samia_app in the middle of a transaction, planning with the definition it already had: the
    # sequence tells it that a newer compile exists, and the table answers.
    reader = _connect()
    check = "SELECT (SELECT samia.feature_on('community'))"
    try:
        reader.execute("SET ROLE samia_app")
        assert reader.execute(check).fetchone() == (False,)

        committed_switch(True)
        assert reader.execute(check).fetchone() == (True,)
        committed_switch(False)
        assert reader.execute(check).fetchone() == (False,)
        committed_switch(True)
        assert reader.execute(check).fetchone() == (True,)
        reader.rollback()

        assert reader.execute(check).fetchone() == (True,)  # and the next transaction too
    finally:
        reader.close()
