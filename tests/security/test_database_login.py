"""Issue 14 item 7: a request connection cannot climb out of RLS.

The web server logs in as an unprivileged role; from inside a request's transaction on that login,
RESET ROLE, SET ROLE and forged identity settings show no row the caller may not read, and
rls_check refuses a web login that could do more than SET ROLE samia_app.
"""

import os
import subprocess
import sys
import uuid

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, connections, transaction

from samia.audit.services import record
from samia.rls import catalog
from samia.rls.binding import bound
from samia.rls.registry import Identity
from tests.conftest import purge_committed_audit_trail

WEB = "web_login"
TABLES = ("accounts_user", "marketplace_order", "audit_auditentry")


def web_login_user() -> str:
    """Return the database user that the web server's entry point (samia.wsgi) logs in as."""
    code = "import samia.wsgi; from django.db import connection; print(connection.settings_dict['USER'])"
    result = subprocess.run(
        [sys.executable, "-c", code], env=dict(os.environ), cwd=settings.BASE_DIR, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


@pytest.fixture
def web(transactional_db):
    """A connection to the test database logged in the way the web server logs in.

    Created, then dropped from the settings: Django's test case refuses declared aliases it was not
    told about, and lets dynamically created connections be.
    """
    connections.settings[WEB] = {**connections.settings["default"], "USER": web_login_user(), "PASSWORD": ""}
    wrapper = connections[WEB]
    del connections.settings[WEB]
    yield wrapper
    wrapper.close()
    del connections[WEB]


@pytest.fixture
def people(transactional_db, make_user):
    """Committed rows the web login's connection can see: a client, an admin, their orders, an audit entry."""
    from tests import factories

    client, admin = make_user(role="client"), make_user(role="admin")
    factories.OrderFactory(client=client)
    factories.OrderFactory()
    record(action="auth.login.failed", actor=Identity(None, None), target=("accounts.user", admin.pk))
    yield {"client": Identity.of(client), "admin": Identity.of(admin)}
    purge_committed_audit_trail()


def _refusable(web, statement, params=None):
    """Run one statement in a savepoint; a refusal (insufficient privilege) leaves the session as it was."""
    try:
        with transaction.atomic(using=WEB), web.cursor() as cursor:
            cursor.execute(statement, params)
            return cursor.fetchall() if cursor.description else None
    except DatabaseError as error:
        if getattr(error.__cause__, "sqlstate", None) != "42501":
            raise
        return None


def visible(web, identity: Identity, *attack: str) -> dict[str, set]:
    """Bind `identity` as a request does, run the attack's statements, return the rows each table then shows."""
    with bound(identity, using=WEB):
        for statement in attack:
            _refusable(web, statement)
        return {table: set(_refusable(web, f"SELECT ctid::text FROM {table}") or ()) for table in TABLES}


def owner_sees(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")
        return cursor.fetchone()[0]


def test_the_web_server_logs_in_as_a_role_that_can_only_become_the_app_role(transactional_db):
    user = web_login_user()

    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper, rolbypassrls, rolinherit FROM pg_roles WHERE rolname = %s", [user])
        assert cursor.fetchone() == (False, False, False)
    assert catalog.web_login_problems(user) == []


@pytest.mark.parametrize(
    "attack",
    [
        ("RESET ROLE",),
        ("SET ROLE NONE",),
        ("SET ROLE {owner}",),
        ("SET ROLE postgres",),
        ("SELECT set_config('samia.role', 'admin', true)",),
        ("SELECT set_config('samia.user_id', '{admin}', true)",),
        ("SELECT set_config('samia.user_id', '{admin}', true)", "SELECT set_config('samia.role', 'admin', true)"),
        ("RESET ROLE", "SELECT set_config('samia.user_id', '{admin}', false)", "SET ROLE samia_app"),
    ],
    ids=[
        "reset-role",
        "set-role-none",
        "set-role-owner",
        "set-role-postgres",
        "role-setting",
        "user-id-setting",
        "user-id-and-role-settings",
        "session-level-user-id",
    ],
)
def test_a_client_request_cannot_climb_out_of_its_rows(web, people, attack):
    # given: what the client sees when bound as a request binds it
    client, admin = people["client"], people["admin"]
    allowed = visible(web, client)
    assert allowed["accounts_user"] and allowed["marketplace_order"]
    assert len(allowed["accounts_user"]) < owner_sees("accounts_user")
    # when
    statements = [s.format(owner=connection.settings_dict["USER"], admin=admin.user_id) for s in attack]
    seen = visible(web, client, *statements)
    # then: nothing beyond the client's own rows
    for table in TABLES:
        assert seen[table] <= allowed[table], (table, attack)


@pytest.mark.parametrize(
    "attack",
    [
        ("RESET ROLE",),
        (
            "SET ROLE samia_app",
            "SELECT set_config('samia.user_id', '{admin}', true)",
            "SELECT set_config('samia.role', 'admin', true)",
        ),
    ],
    ids=["reset-role", "user-id-and-role-settings"],
)
def test_an_anonymous_session_sees_no_row_by_forging_an_identity(web, people, attack):
    statements = [s.format(admin=people["admin"].user_id) for s in attack]

    seen = visible(web, Identity(None, None), *statements)

    assert seen == {table: set() for table in TABLES}


def test_a_binding_seen_on_one_connection_counts_on_no_other(web, people):
    # given: the settings of an admin's binding on the owner's connection
    with bound(people["admin"]), connection.cursor() as cursor:
        names = ("samia.user_id", "samia.user_proof", "samia.role")
        cursor.execute("SELECT " + ", ".join("current_setting(%s, true)" for _ in names), names)
        captured = [
            ("SELECT set_config(%s, %s, true)", [n, v]) for n, v in zip(names, cursor.fetchone(), strict=True) if v
        ]
    assert ("SELECT set_config(%s, %s, true)", ["samia.user_id", str(people["admin"].user_id)]) in captured
    # when: replayed on the web login's connection
    with bound(Identity(None, None), using=WEB):
        for statement, params in captured:
            _refusable(web, statement, params)
        seen = _refusable(web, "SELECT count(*) FROM accounts_user")
    # then
    assert seen == [(0,)]


def test_an_admin_bound_as_a_request_binds_sees_every_row(web, people):
    seen = visible(web, people["admin"])

    assert {table: len(rows) for table, rows in seen.items()} == {table: owner_sees(table) for table in TABLES}
    assert all(seen.values())


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("grant", "problem"),
    [
        ("ALTER ROLE {role} SUPERUSER", "web login {role} is a superuser and bypasses RLS"),
        ("ALTER ROLE {role} BYPASSRLS", "web login {role} has BYPASSRLS"),
        ("ALTER ROLE {role} INHERIT", "web login {role} inherits its roles' privileges (must be NOINHERIT)"),
        ("GRANT SELECT ON accounts_user TO {role}", "web login {role} holds privileges on accounts_user"),
        ("GRANT UPDATE (email) ON accounts_user TO {role}", "web login {role} holds privileges on accounts_user"),
        ("ALTER TABLE marketplace_service OWNER TO {role}", "web login {role} owns marketplace_service"),
        ("GRANT {owner} TO {role}", "web login {role} is a member of {owner}"),
    ],
    ids=["superuser", "bypassrls", "inherit", "table-grant", "column-grant", "owner", "member-of-owner"],
)
def test_rls_check_refuses_a_web_login_that_can_do_more(settings, grant, problem):
    # given: a throwaway login (rolled back with the test), set up as samia_web is, plus one more right
    role = f"samia_web_probe_{uuid.uuid4().hex[:12]}"
    owner = connection.settings_dict["USER"]
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {role} LOGIN NOINHERIT NOSUPERUSER NOBYPASSRLS")
        cursor.execute(f"GRANT samia_app TO {role}")
    settings.DATABASE_WEB = {**settings.DATABASES["default"], "USER": role}
    assert [p for p in catalog.check() if role in p] == []
    # when
    with connection.cursor() as cursor:
        cursor.execute(grant.format(role=role, owner=owner))
    # then
    assert problem.format(role=role, owner=owner) in catalog.check()
    with pytest.raises(CommandError):
        call_command("rls_check")
