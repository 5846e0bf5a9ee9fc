"""Issue 14, item 4: identity fields follow rank, and every identity change is audited without personal values."""

import json

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client

from samia.accounts.models import User
from samia.audit.models import AuditEntry
from samia.audit.services import canonical
from samia.rls.binding import bound, session_nonce
from samia.rls.registry import Identity
from tests.conftest import api_as
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _connection_nonce_read_as_owner(db):
    # The binding reads its connection nonce lazily; a session-authenticated back-office request on a
    # fresh connection would read it after SET ROLE and fail (reported to the binding's owner).
    session_nonce()


CHANGES = {
    "email": "UPDATE accounts_user SET email = 'renamed@example.com' WHERE id = %s",
    "phone": "UPDATE accounts_user SET phone = '+966500000001' WHERE id = %s",
    "is_active": "UPDATE accounts_user SET is_active = false WHERE id = %s",
    "role": "UPDATE accounts_user SET role = 'reader' WHERE id = %s",
}


def _update_as(actor: User, sql: str, target: User) -> bool:
    """Run `sql` on `target` as the app role bound to `actor`; return whether Postgres changed the row."""
    try:
        with transaction.atomic(), bound(Identity(actor.pk, actor.role)), connection.cursor() as cursor:
            cursor.execute(sql, [target.pk])
            transaction.set_rollback(True)
            return cursor.rowcount == 1
    except DatabaseError:
        return False


@pytest.mark.parametrize("field", sorted(CHANGES))
@pytest.mark.parametrize(
    ("actor", "target", "admitted"),
    [
        ("admin", "superadmin", False),
        ("admin", "other_admin", False),
        ("superadmin", "admin", True),
        ("superadmin", "other_superadmin", True),
        ("admin", "monitor", True),
    ],
)
def test_the_identity_of_an_equal_or_higher_rank_changes_only_by_a_superadmin(
    personas, make_user, field, actor, target, admitted
):
    others = {"other_admin": "admin", "other_superadmin": "superadmin"}
    target_user = make_user(role=others[target]) if target in others else personas[target]
    # Deactivating is a restriction, and nobody restricts a superadmin (moderation's rank rule);
    # taking a monitor's staff role is a superadmin's.
    admitted = admitted and (target, field) not in {("other_superadmin", "is_active"), ("monitor", "role")}

    assert _update_as(personas[actor], CHANGES[field], target_user) is admitted


@pytest.mark.parametrize(("actor", "admitted"), [("client", False), ("admin", False), ("superadmin", True)])
def test_only_a_superadmin_changes_their_own_email_there_is_no_reauthenticated_route(personas, actor, admitted):
    user = personas[actor]

    assert _update_as(user, CHANGES["email"], user) is admitted


def test_the_back_office_does_not_offer_an_admin_the_email_of_a_superadmin(personas):
    superadmin = personas["superadmin"]
    client = Client()
    client.post("/backoffice/login/", {"username": personas["admin"].email, "password": PASSWORD})
    url = f"/backoffice/accounts/user/{superadmin.pk}/change/"

    html = client.get(url).content.decode()
    client.post(url, {"email": "taken.over@example.com", "phone": "+966500000009", "first_name": "x"})

    assert 'name="email"' not in html
    assert 'name="phone"' not in html
    superadmin.refresh_from_db()
    assert superadmin.email != "taken.over@example.com"


def _identity_entries(target: User) -> list[AuditEntry]:
    return list(
        AuditEntry.objects.filter(action="accounts.user.identity_change", target_id=str(target.pk)).order_by("id")
    )


def test_every_identity_change_is_audited_with_field_names_and_ids_only(personas):
    admin, client_user, reader = personas["admin"], personas["client"], personas["reader"]
    old_email, old_phone = client_user.email, client_user.phone

    # when the admin changes a client's email and phone in one statement, and a reader's role
    with transaction.atomic(), bound(Identity(admin.pk, admin.role)), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE accounts_user SET email = 'new.address@example.com', phone = '+966500000002' WHERE id = %s",
            [client_user.pk],
        )
        cursor.execute("UPDATE accounts_user SET role = 'client' WHERE id = %s", [reader.pk])
        # and a profile change that is not about identity
        cursor.execute("UPDATE accounts_user SET first_name = 'Noor' WHERE id = %s", [client_user.pk])

    # then one entry per statement that changed identity, naming the fields, in the admin's name
    [email_phone] = _identity_entries(client_user)
    [role] = _identity_entries(reader)
    assert (email_phone.actor_id, email_phone.actor_role, email_phone.details) == (
        admin.pk,
        "admin",
        {"fields": ["email", "phone"]},
    )
    assert (role.actor_id, role.target_type, role.details) == (admin.pk, "accounts.user", {"fields": ["role"]})
    # and no personal value, old or new, and a payload in the canonical form the chain hashes
    for personal in filter(None, (old_email, old_phone, "new.address@example.com", "+966500000002", "Noor")):
        assert personal not in email_phone.payload
    assert email_phone.payload == canonical(json.loads(email_phone.payload))


def test_a_users_own_phone_change_through_the_api_is_audited(personas):
    client_user = personas["client"]

    response = api_as(client_user).patch("/me", {"phone": "+966500000003"}, format="json")

    assert response.status_code == 200
    [entry] = _identity_entries(client_user)
    assert (entry.actor_id, entry.details) == (client_user.pk, {"fields": ["phone"]})
    assert "+966500000003" not in entry.payload


def test_a_change_made_without_identity_is_audited_as_the_service_role(personas):
    monitor = personas["monitor"]

    User.objects.filter(pk=monitor.pk).update(is_active=False)

    [entry] = _identity_entries(monitor)
    assert (entry.actor_id, entry.actor_role, entry.details) == (None, "system:database", {"fields": ["is_active"]})
