"""Read the live Postgres catalog and compare it with the declarations."""

from __future__ import annotations

import hmac
import re
import sys
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.migrations.loader import MigrationLoader

from samia.rls.login import stored_key
from samia.rls.registry import (
    APP_ROLE,
    COMMANDS,
    DECLARATIONS,
    FRAMEWORK,
    OPERATIONS,
    PERSONAS,
    ROLES,
    app_sql,
    declaring_apps,
)

_ROLE_IN_QUAL = re.compile(r"samia\.actor_role\(\) AS actor_role\) = '(\w+)'::text")
_CMD_TO_OPERATION = {"SELECT": "select", "INSERT": "insert", "UPDATE": "update", "DELETE": "delete", "ALL": "all"}


@dataclass(frozen=True)
class CatalogPolicy:
    table: str
    name: str
    command: str
    roles: tuple[str, ...]
    permissive: bool
    qual: str | None
    with_check: str | None

    def personas(self) -> set[str]:
        text = self.qual or self.with_check or ""
        match = _ROLE_IN_QUAL.search(text)
        return {match.group(1)} if match else set(PERSONAS)


def _fetch(sql: str, params=None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchall()


def catalog_policies(table: str) -> list[CatalogPolicy]:
    rows = _fetch(
        "SELECT tablename, policyname, cmd, roles::text[], permissive = 'PERMISSIVE', qual, with_check "
        "FROM pg_policies WHERE schemaname = 'public' AND tablename = %s ORDER BY policyname",
        [table],
    )
    return [CatalogPolicy(r[0], r[1], r[2], tuple(r[3]), r[4], r[5], r[6]) for r in rows]


def catalog_grants(table: str) -> set[str]:
    rows = _fetch(
        "SELECT privilege_type FROM information_schema.role_table_grants "
        "WHERE grantee = %s AND table_schema = 'public' AND table_name = %s",
        [APP_ROLE, table],
    )
    return {r[0].lower() for r in rows}


def public_tables() -> dict[str, tuple[bool, bool]]:
    """Return {table: (row security enabled, forced)} for every table in schema public."""
    rows = _fetch(
        "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') "
        "AND NOT c.relispartition"
    )
    return {r[0]: (r[1], r[2]) for r in rows}


def partition_grants() -> dict[str, set[str]]:
    """Privileges of the app role on partitions: it reaches them only through their parent's policies."""
    rows = _fetch(
        "SELECT c.relname, g.privilege_type FROM pg_class c "
        "JOIN information_schema.role_table_grants g ON g.table_name = c.relname AND g.table_schema = 'public' "
        "WHERE c.relispartition AND c.relnamespace = 'public'::regnamespace AND g.grantee = %s",
        [APP_ROLE],
    )
    found: dict[str, set[str]] = {}
    for table, privilege in rows:
        found.setdefault(table, set()).add(privilege.lower())
    return found


def normalized_policies(table: str) -> dict[str, tuple[str, str | None, str | None]]:
    """Compile the declaration onto a scratch copy of the table and read back Postgres's own text."""
    declaration = DECLARATIONS[table]
    probe = f"rls_probe_{table}"[:63]
    result = {}
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE TEMP TABLE {probe} (LIKE public.{table})")
            for policy in declaration.policies():
                cursor.execute(policy.sql().replace(f" ON {table} ", f" ON {probe} ", 1))
            cursor.execute("SELECT policyname, cmd, qual, with_check FROM pg_policies WHERE tablename = %s", [probe])
            for name, command, qual, with_check in cursor.fetchall():
                result[name] = (command, qual, with_check)
        transaction.set_rollback(True)
    return result


def indexed_columns(table: str) -> set[str]:
    rows = _fetch(
        "SELECT a.attname FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid "
        "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = ANY(i.indkey) "
        "WHERE c.relname = %s AND c.relnamespace = 'public'::regnamespace",
        [table],
    )
    return {r[0] for r in rows}


def app_role_problems() -> list[str]:
    rows = _fetch("SELECT rolsuper, rolbypassrls, rolcanlogin, rolinherit FROM pg_roles WHERE rolname = %s", [APP_ROLE])
    if not rows:
        return [f"role {APP_ROLE} does not exist"]
    superuser, bypass, login, _inherit = rows[0]
    problems = []
    if superuser:
        problems.append(f"{APP_ROLE} is a superuser and bypasses RLS")
    if bypass:
        problems.append(f"{APP_ROLE} has BYPASSRLS")
    if login:
        problems.append(f"{APP_ROLE} can log in directly")
    memberships = _fetch(
        "SELECT r.rolname FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid "
        "JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = %s",
        [APP_ROLE],
    )
    for (granted,) in memberships:
        problems.append(f"{APP_ROLE} is a member of {granted} and may gain its rights")
    owned = _fetch(
        "SELECT c.relname FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner "
        "WHERE r.rolname = %s AND c.relnamespace = 'public'::regnamespace",
        [APP_ROLE],
    )
    problems += [f"{APP_ROLE} owns {name} (owners bypass RLS)" for (name,) in owned]
    return problems


def web_login_problems(role: str) -> list[str]:
    """Return what lets the web server's login `role` do more than SET ROLE samia_app."""
    rows = _fetch("SELECT oid, rolsuper, rolbypassrls, rolinherit FROM pg_roles WHERE rolname = %s", [role])
    if not rows:
        return [f"web login {role} does not exist (migrate?)"]
    oid, superuser, bypass, inherit = rows[0]
    problems = []
    if superuser:
        problems.append(f"web login {role} is a superuser and bypasses RLS")
    if bypass:
        problems.append(f"web login {role} has BYPASSRLS")
    if inherit:
        problems.append(f"web login {role} inherits its roles' privileges (must be NOINHERIT)")
    granted = {r[0] for r in _fetch("SELECT roleid::regrole::text FROM pg_auth_members WHERE member = %s", [oid])}
    problems += [f"web login {role} is a member of {other}" for other in sorted(granted - {APP_ROLE})]
    if APP_ROLE not in granted:
        problems.append(f"web login {role} is not a member of {APP_ROLE} and cannot SET ROLE to it")
    owned = _fetch(
        "SELECT oid::regclass::text FROM pg_class WHERE relowner = %(oid)s "
        "UNION ALL SELECT nspname::text FROM pg_namespace WHERE nspowner = %(oid)s "
        "UNION ALL SELECT oid::regprocedure::text FROM pg_proc WHERE proowner = %(oid)s",
        {"oid": oid},
    )
    problems += [f"web login {role} owns {name}" for (name,) in sorted(owned)]
    grants = _fetch(
        "SELECT c.oid::regclass::text FROM pg_class c, aclexplode(c.relacl) a WHERE a.grantee = %(oid)s "
        "UNION SELECT t.attrelid::regclass::text FROM pg_attribute t, aclexplode(t.attacl) a WHERE a.grantee = %(oid)s",
        {"oid": oid},
    )
    problems += [f"web login {role} holds privileges on {name}" for (name,) in sorted(grants)]
    return problems


def binding_key_problems() -> list[str]:
    """Return a problem when Postgres verifies bindings with another key than RLS_BINDING_KEY."""
    stored = stored_key()
    if stored is None:
        return ["no binding key stored in the database; run manage.py migrate"]
    if not hmac.compare_digest(stored, settings.RLS_BINDING_KEY.encode()):
        return ["the stored binding key differs from RLS_BINDING_KEY; run manage.py migrate"]
    return []


def latest_migrated_sql(app_label: str) -> str | None:
    """Return RLS_SQL of the newest migration in `app_label` that carries one, without surrounding newlines.

    Generated migrations hold it triple-quoted between newlines; the earliest ones as one repr() line.
    """
    loader = MigrationLoader(None, ignore_no_migrations=True)
    leaves = loader.graph.leaf_nodes(app_label)
    if not leaves:
        return None
    found = None
    for node in loader.graph.forwards_plan(leaves[0]):
        if node[0] != app_label:
            continue
        module = sys.modules.get(loader.disk_migrations[node].__module__)
        if module is not None and hasattr(module, "RLS_SQL"):
            found = module.RLS_SQL.strip()
    return found


def check() -> list[str]:
    """Return every disagreement between the catalog and the declarations (empty when they agree)."""
    problems = app_role_problems() + web_login_problems(settings.DATABASE_WEB["USER"]) + binding_key_problems()
    tables = public_tables()
    for table, (enabled, _forced) in sorted(tables.items()):
        if table.startswith("rls_probe_"):
            continue
        if table in DECLARATIONS:
            if not enabled:
                problems.append(f"{table}: row-level security is off")
        elif table in FRAMEWORK:
            if enabled:
                problems.append(f"{table}: declared a framework table but row-level security is on")
            extra = catalog_grants(table) - {COMMANDS[g].lower() for g in FRAMEWORK[table].grants}
            if extra:
                problems.append(f"{table}: {APP_ROLE} holds undeclared privileges {sorted(extra)}")
        else:
            problems.append(f"{table}: no declaration (add it to a policies.py, or declare it a framework table)")
    for table, privileges in sorted(partition_grants().items()):
        problems.append(f"{table}: {APP_ROLE} may reach this partition directly ({sorted(privileges)})")
    for table, declaration in sorted(DECLARATIONS.items()):
        if table not in tables:
            problems.append(f"{table}: declared but missing from the database (migrate?)")
            continue
        expected = normalized_policies(table)
        actual = {p.name: p for p in catalog_policies(table)}
        for name in sorted(set(expected) - set(actual)):
            problems.append(f"{table}: policy {name} is declared but missing")
        for name in sorted(set(actual) - set(expected)):
            problems.append(f"{table}: policy {name} is in the database but not declared")
        for name in sorted(set(expected) & set(actual)):
            policy = actual[name]
            command, qual, with_check = expected[name]
            if (policy.command, policy.qual, policy.with_check) != (command, qual, with_check):
                problems.append(f"{table}: policy {name} differs from its declaration")
            if policy.roles != (APP_ROLE,) or not policy.permissive:
                problems.append(f"{table}: policy {name} must be PERMISSIVE TO {APP_ROLE}")
        grants = catalog_grants(table)
        declared = set(declaration.operations())
        if grants != declared:
            problems.append(f"{table}: {APP_ROLE} holds {sorted(grants)}, declared {sorted(declared)}")
        missing_index = declaration.columns() - indexed_columns(table)
        for column in sorted(missing_index):
            problems.append(f"{table}: policy column {column} has no index")
    for app_label in declaring_apps():
        if latest_migrated_sql(app_label) != app_sql(app_label):
            problems.append(f"{app_label}: declarations changed since its last RLS migration; run rls_makemigrations")
    return problems


def matrix() -> list[tuple[str, dict[str, str]]]:
    """Return, per declared table, the operations each persona may perform, read from the catalog."""
    rows = []
    letters = {"select": "S", "insert": "I", "update": "U", "delete": "D"}
    for table in sorted(DECLARATIONS):
        grants = catalog_grants(table)
        cells = {persona: set() for persona in PERSONAS}
        for policy in catalog_policies(table):
            operation = _CMD_TO_OPERATION[policy.command]
            operations = OPERATIONS if operation == "all" else (operation,)
            for persona in policy.personas():
                cells[persona].update(op for op in operations if op in grants)
        rows.append((table, {p: "".join(letters[o] for o in OPERATIONS if o in cells[p]) or "-" for p in PERSONAS}))
    return rows


__all__ = ["ROLES", "check", "matrix"]
