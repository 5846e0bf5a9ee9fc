"""rls_makemigrations writes reviewable migrations: one SQL statement per line, the SQL of the declarations."""

import subprocess
import sys

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django.db.migrations.loader import MigrationLoader

from samia.rls import catalog
from samia.rls.management.commands.rls_makemigrations import dependencies_of, python_text, render_migration
from samia.rls.registry import DECLARATIONS, FRAMEWORK, allow, app_sql, declaring_apps

pytestmark = pytest.mark.django_db


def _render(app_label: str) -> str:
    loader = MigrationLoader(None, ignore_no_migrations=True)
    return render_migration(
        app_label, app_sql(app_label), catalog.latest_migrated_sql(app_label), dependencies_of(app_label, loader)
    )


def _load(source: str) -> dict:
    namespace: dict = {}
    exec(compile(source, "generated_rls_migration.py", "exec"), namespace)
    return namespace


def _catalog_of(app_label: str) -> dict:
    tables = sorted(t for t, d in {**DECLARATIONS, **FRAMEWORK}.items() if d.app_label == app_label)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename, policyname, permissive, roles::text[], cmd, qual, with_check FROM pg_policies "
            "WHERE schemaname = 'public' AND tablename = ANY(%s) ORDER BY tablename, policyname",
            [tables],
        )
        policies = cursor.fetchall()
    return {
        "policies": policies,
        "grants": {t: catalog.catalog_grants(t) for t in tables},
        "row security": {t: catalog.public_tables()[t] for t in tables},
    }


@pytest.mark.parametrize("app_label", declaring_apps())
def test_it_writes_one_statement_per_line(app_label):
    migration = _load(_render(app_label))

    assert migration["RLS_SQL"].startswith("\n")
    assert migration["RLS_SQL"].endswith(";\n")
    statements = [line for line in migration["RLS_SQL"].splitlines() if line]
    assert statements == [line for line in app_sql(app_label).splitlines() if line]
    assert all(line.endswith(";") for line in statements)
    assert migration["RLS_SQL"].strip() == app_sql(app_label)
    assert migration["PREVIOUS_SQL"].strip() == catalog.latest_migrated_sql(app_label)
    (operation,) = migration["Migration"].operations
    assert (operation.sql, operation.reverse_sql) == (migration["RLS_SQL"], migration["PREVIOUS_SQL"])


@pytest.mark.parametrize("app_label", declaring_apps())
def test_running_the_written_sql_gives_the_same_catalog(app_label):
    migration = _load(_render(app_label))
    before = _catalog_of(app_label)

    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(migration["RLS_SQL"])
        after = _catalog_of(app_label)
        transaction.set_rollback(True)

    assert after == before
    # An app whose tables have no rule at all (the keyring) has no policy: its RLS is on, nothing granted.
    assert before["policies"] or not any(d.rules for t, d in DECLARATIONS.items() if d.app_label == app_label)


def test_the_written_migration_is_ruff_clean():
    source = _render("marketplace")
    filename = "generated_rls_migration.py"  # outside migrations/, which ruff's configuration excludes

    for command in (["check"], ["format", "--check"]):
        result = subprocess.run(
            [sys.executable, "-m", "ruff", *command, "--stdin-filename", filename, "-"],
            input=source,
            capture_output=True,
            text=True,
            cwd=settings.BASE_DIR,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr


def test_it_names_the_latest_migration_of_each_table_owner():
    migration = _load(_render("marketplace"))
    loader = MigrationLoader(None, ignore_no_migrations=True)

    assert migration["Migration"].dependencies == [
        ("marketplace", loader.graph.leaf_nodes("marketplace")[0][1]),
        ("rls", loader.graph.leaf_nodes("rls")[0][1]),
    ]


def test_text_that_a_triple_quoted_literal_cannot_hold_stays_exact():
    for sql in ["SELECT '\\d';", 'SELECT 1 AS """x""";', "SELECT 'a''b';"]:
        assert eval(python_text(sql)).strip() == sql


def test_the_migrations_carry_the_declarations(capsys):
    call_command("rls_makemigrations", "--check")

    assert capsys.readouterr().out == "No RLS changes.\n"


def test_a_changed_declaration_asks_for_a_migration(monkeypatch):
    orders = DECLARATIONS["marketplace_order"]
    monkeypatch.setattr(orders, "rules", (*orders.rules, allow("delete", "admin")))

    with pytest.raises(SystemExit, match="RLS declarations changed in: marketplace"):
        call_command("rls_makemigrations", "--check")
