import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from samia.rls import catalog
from samia.rls.conditions import Always, Equals, Mine
from samia.rls.registry import DECLARATIONS, Identity

pytestmark = pytest.mark.django_db


def _sql(statement):
    with connection.cursor() as cursor:
        cursor.execute(statement)


def test_it_passes_on_the_migrated_database(capsys):
    call_command("rls_check")

    out = capsys.readouterr().out
    assert "rls_check: catalog matches the declarations" in out
    assert "marketplace_order" in out


def test_it_prints_the_matrix_from_the_catalog():
    rows = dict(catalog.matrix())

    assert rows["marketplace_order"] == {
        "client": "SIU",
        "reader": "SU",
        "monitor": "SU",
        "admin": "SU",
        "superadmin": "SU",
        "anonymous": "-",
    }
    assert rows["marketplace_horoscope"]["anonymous"] == "S"


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        ("ALTER POLICY select_client ON marketplace_order USING (true)", "policy select_client differs"),
        ("DROP POLICY select_reader ON marketplace_order", "policy select_reader is declared but missing"),
        (
            "CREATE POLICY sneaky ON marketplace_order FOR SELECT TO samia_app USING (true)",
            "policy sneaky is in the database but not declared",
        ),
        ("ALTER TABLE marketplace_call DISABLE ROW LEVEL SECURITY", "marketplace_call: row-level security is off"),
        ("GRANT DELETE ON marketplace_order TO samia_app", "samia_app holds ['delete', 'insert'"),
        ("CREATE TABLE stray_table (id int)", "stray_table: no declaration"),
        ("GRANT INSERT ON django_migrations TO samia_app", "django_migrations: samia_app holds undeclared"),
    ],
)
def test_it_fails_on_drift(damage, expected):
    _sql(damage)

    problems = catalog.check()

    assert any(expected in problem for problem in problems), problems
    with pytest.raises(CommandError):
        call_command("rls_check")


def test_it_fails_when_the_app_role_can_bypass_rls():
    _sql("ALTER ROLE samia_app BYPASSRLS")
    try:
        assert "samia_app has BYPASSRLS" in catalog.check()
    finally:
        _sql("ALTER ROLE samia_app NOBYPASSRLS")


def test_it_fails_when_a_declaration_changes_without_a_migration(monkeypatch):
    from samia.rls.registry import allow

    orders = DECLARATIONS["marketplace_order"]
    monkeypatch.setattr(orders, "rules", (*orders.rules, allow("delete", "admin")))

    problems = catalog.check()

    assert "marketplace: declarations changed since its last RLS migration; run rls_makemigrations" in problems


def test_always_stays_a_tautology_when_combined():
    identity = Identity(5, "client")

    assert str((Mine("client_id") | Always()).q(identity)) == str(Mine("client_id").q(identity) | Always().q(identity))
    assert "pk__isnull" in str((Equals("status", "new") | Always()).q(identity))
