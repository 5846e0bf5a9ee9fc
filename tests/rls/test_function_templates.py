"""Each SQL function and trigger a migration creates has its template in its app, and the latest
migration that creates it carries the template's rendering (whitespace and leading comments aside).

A template changed without a new migration fails here: write a migration that freezes the new rendering.
"""

import re
from functools import cache
from pathlib import Path

import pytest
from django.conf import settings
from django.db import migrations
from django.db.migrations.loader import MigrationLoader
from django.utils.module_loading import import_string

# Each template: a SQL string, or a function that renders one.
TEMPLATES = (
    "samia.rls.sql.IDENTITY_HELPERS",
    "samia.rls.sql.RESET_TABLE_ACCESS",
    "samia.rls.sql.PURPOSE_PROOF",
    "samia.accounts.sql.IDENTITY_LOOKUP",
    "samia.accounts.sql.guard_user_privileges_sql",
    "samia.accounts.sql.AUDIT_IDENTITY_CHANGES",
    "samia.audit.sql.BEFORE_INSERT",
    "samia.audit.sql.CHAIN_PENDING",
    "samia.audit.sql.CHAIN",
    "samia.audit.sql.CHAIN_SWEEP",
    "samia.audit.sql.APPEND_ONLY",
    "samia.audit.sql.ROW_HASHES",
    "samia.audit.sql.UTC_TIME",
    "samia.audit.sql.CHECKPOINT_APPEND_ONLY",
    "samia.events.sql.ENSURE_PARTITIONS",
    "samia.marketplace.states.transition_guard_sql",
    "samia.marketplace.sql.MEDIA_GUARD",
    "notifications.states.state_guard_sql",
    "notifications.sql.DEVICE_CLAIM",
    "moderation.sql.BLOCK_EXPLAINED",
    "samia.features.sql.FEATURE_ON",
    "community.sql.COMMENT_GUARD",
    "ar.sql.KEY_REMOVED",
    "i18n.sql.WITHHELD",
    "i18n.sql.PHONE_LANGUAGE",
    "ops.sql.PROVIDER_ENABLED",
)
README = Path(settings.BASE_DIR) / "samia" / "rls" / "RLS_README.md"

_FUNCTION = re.compile(r"CREATE (?:OR REPLACE )?FUNCTION ([\w.]+)\(", re.IGNORECASE)
_TRIGGER = re.compile(r"CREATE (?:CONSTRAINT )?TRIGGER (\w+)", re.IGNORECASE)


def statements(sql: str) -> list[str]:
    """Split `sql` at the semicolons outside comments, quotes and $$ bodies; drop leading comment lines."""
    found, start, i = [], 0, 0
    while i < len(sql):
        if sql.startswith("--", i):
            end = sql.find("\n", i)
            i = len(sql) if end < 0 else end
        elif sql[i] == "'":
            i = sql.index("'", i + 1) + 1
        elif sql.startswith("$$", i):
            i = sql.index("$$", i + 2) + 2
        else:
            if sql[i] == ";":
                found.append(sql[start : i + 1])
                start = i + 1
            i += 1
    result = []
    for statement in found:
        lines = statement.strip().splitlines()
        while lines and lines[0].lstrip().startswith("--"):
            lines.pop(0)
        result.append(" ".join(" ".join(lines).split()))
    return result


def key(statement: str) -> tuple[str, str] | None:
    """Return ("function" | "trigger", name) for a statement that creates one, else None."""
    for kind, pattern in (("function", _FUNCTION), ("trigger", _TRIGGER)):
        match = pattern.match(statement)
        if match:
            return kind, match.group(1)
    return None


def _forward_sql(operations):
    for operation in operations:
        if isinstance(operation, migrations.RunSQL):
            yield from [operation.sql] if isinstance(operation.sql, str) else operation.sql
        elif isinstance(operation, migrations.SeparateDatabaseAndState):
            yield from _forward_sql(operation.database_operations)


@cache
def migrated() -> tuple[dict, frozenset]:
    """Return {key: (migration node, statement)} from the latest migration creating each, and every statement."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    nodes: dict = {}
    for leaf in sorted(loader.graph.leaf_nodes()):
        nodes.update(dict.fromkeys(loader.graph.forwards_plan(leaf)))
    latest, everything = {}, set()
    for node in nodes:
        for sql in _forward_sql(loader.graph.nodes[node].operations):
            for statement in statements(sql):
                everything.add(statement)
                if key(statement):
                    latest[key(statement)] = (node, statement)
    return latest, frozenset(everything)


@cache
def rendered() -> dict[tuple[str, str], tuple[str, str]]:
    """Return {key: (template path, statement)} for every function and trigger the templates create."""
    result = {}
    for path in TEMPLATES:
        template = import_string(path)
        for statement in statements(template() if callable(template) else template):
            if key(statement):
                assert key(statement) not in result, f"{key(statement)} has two templates"
                result[key(statement)] = (path, statement)
    return result


def test_every_function_and_trigger_in_the_migrations_has_a_template():
    latest, _ = migrated()

    assert sorted(set(latest) - set(rendered())) == []
    assert sorted(set(rendered()) - set(latest)) == []


@pytest.mark.parametrize("created", sorted(rendered()), ids=lambda created: f"{created[0]} {created[1]}")
def test_the_latest_migration_carries_the_template(created):
    path, statement = rendered()[created]
    node, frozen = migrated()[0][created]

    assert frozen == statement, f"{path} changed since {node[0]} {node[1]}: write a migration that carries it"


@pytest.mark.parametrize("path", TEMPLATES)
def test_the_grants_of_a_template_are_in_a_migration(path):
    template = import_string(path)
    others = [s for s in statements(template() if callable(template) else template) if not key(s)]

    assert [s for s in others if s not in migrated()[1]] == []


def test_the_rls_readme_names_each_template_and_its_latest_migration():
    rows = re.findall(r"^\| `([\w.]+)` \| (\w+) \| `([\w.]+)` \| `(\w+) (\w+)` \|$", README.read_text(), re.MULTILINE)
    latest, _ = migrated()

    assert {(kind, name): (path, app, migration) for name, kind, path, app, migration in rows} == {
        created: (rendered()[created][0], *latest[created][0]) for created in rendered()
    }


def test_statements_split_outside_comments_quotes_and_bodies():
    sql = """
    -- the caller's role; not a statement
    CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$
    BEGIN
      RETURN 1;  -- one; two
    END $$;
    SELECT 'a;b', 'it''s';
    """

    assert statements(sql) == [
        "CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN 1; -- one; two END $$;",
        "SELECT 'a;b', 'it''s';",
    ]
    assert key(statements(sql)[0]) == ("function", "f")
