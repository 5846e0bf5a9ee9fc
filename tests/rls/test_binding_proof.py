"""Postgres, not a setting, says who the caller is: a proven user id, and the role on that user's row."""

import uuid

import pytest
from django.db import connection, connections

from samia.rls import catalog
from samia.rls.binding import bound, current_identity
from samia.rls.login import stored_key, sync
from samia.rls.registry import Identity

pytestmark = pytest.mark.django_db


def test_a_bound_user_counts_with_the_role_on_their_row(make_user):
    user = make_user(role="client")
    user.role = "reader"
    user.save(update_fields=["role"])

    with bound(Identity(user.pk, "client")):
        assert current_identity() == ("samia_app", str(user.pk), "reader")


def test_a_binding_under_another_key_is_nobody(settings, make_user):
    user = make_user(role="admin")
    settings.RLS_BINDING_KEY = "not-the-key-postgres-holds"

    with bound(Identity(user.pk, "admin")):
        assert current_identity() == ("samia_app", None, None)


def test_rls_check_fails_while_the_stored_key_differs_and_migrate_stores_it(settings):
    settings.RLS_BINDING_KEY = "a-rotated-binding-key"

    assert "the stored binding key differs from RLS_BINDING_KEY; run manage.py migrate" in catalog.check()
    sync()
    assert stored_key() == b"a-rotated-binding-key"
    assert [p for p in catalog.check() if "binding key" in p] == []


def test_migrate_sets_the_web_login_password_as_a_scram_verifier(settings):
    role = f"samia_web_probe_{uuid.uuid4().hex[:12]}"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {role} LOGIN NOINHERIT")
    settings.DATABASE_WEB = {**settings.DATABASE_WEB, "USER": role, "PASSWORD": "a-web-password"}

    sync()

    with connection.cursor() as cursor:
        cursor.execute("SELECT rolpassword FROM pg_authid WHERE rolname = %s", [role])
        assert cursor.fetchone()[0].startswith("SCRAM-SHA-256$4096:")


def test_a_block_that_starts_anonymous_on_a_new_connection_can_switch_to_a_user(make_user):
    # The back office and the API bind the caller's claim first (often nobody) and the confirmed user
    # after; on a connection's first request the nonce must already be known by then.
    user = make_user(role="admin")
    connections["default"].__dict__.pop("rls_session_nonce", None)

    with bound() as binding:
        binding.switch(Identity(user.pk, "admin"))
        assert current_identity() == ("samia_app", str(user.pk), "admin")
