"""Issue 14, items 1-3 (back office): no privilege escalation, blocks only through moderation, no hashes shown.

Alice the admin runs the back office, Bob the monitor moderates, Sam the superadmin alone makes staff.
"""

import re

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client

from moderation import services
from moderation.models import ModerationAction
from samia.accounts.models import User
from samia.rls.binding import bound, session_nonce
from samia.rls.registry import Identity
from tests.conftest import in_own_connection
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _connection_nonce_read_as_owner(db):
    # The binding reads its connection nonce lazily; a session-authenticated back-office request on a
    # fresh connection would read it after SET ROLE and fail (reported to the binding's owner).
    session_nonce()


ADD_URL = "/backoffice/accounts/user/add/"
LIST_URL = "/backoffice/accounts/user/"
NEW_PASSWORD = "a-long-enough-secret-42"


def _logged_in(user) -> Client:
    client = Client()
    response = client.post("/backoffice/login/", {"username": user.email, "password": PASSWORD})
    assert response.status_code == 302, response.content[:300]
    return client


def _identity(user) -> Identity:
    return Identity(user.pk, user.role)


def _add_form(email: str, role: str) -> dict:
    return {
        "email": email,
        "role": role,
        "password": NEW_PASSWORD,
        "first_name": "",
        "last_name": "",
        "phone": "",
        "country": "SA",
        "timezone": "UTC",
        "language": "en",
        "date_of_birth": "",
    }


@pytest.fixture
def blocked(personas):
    """The client, blocked indefinitely by the monitor through moderation."""
    return services.user_block(
        identity=_identity(personas["monitor"]),
        user_id=personas["client"].pk,
        reason_code="harassment",
        duration=None,
        evidence=[],
    )


# --- 1. only a superadmin creates staff ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actor", "role", "created"),
    [
        ("admin", "superadmin", False),
        ("admin", "admin", False),
        ("admin", "monitor", False),
        ("admin", "reader", True),
        ("superadmin", "superadmin", True),
        ("superadmin", "monitor", True),
    ],
)
def test_the_add_user_form_creates_staff_only_for_a_superadmin(personas, actor, role, created):
    client = _logged_in(personas[actor])

    response = client.post(ADD_URL, _add_form("new.user@example.com", role))

    made = User.objects.filter(email="new.user@example.com").first()
    if created:
        assert response.status_code == 302
        assert made.role == role
        assert made.check_password(NEW_PASSWORD)
    else:
        assert response.status_code == 200  # the form again, with the error on the role
        assert "Select a valid choice" in response.content.decode()
        assert made is None


@pytest.mark.parametrize(("actor", "offered"), [("admin", ["client", "reader"]), ("superadmin", None)])
def test_the_add_user_form_offers_only_the_roles_the_actor_may_grant(personas, actor, offered):
    html = _logged_in(personas[actor]).get(ADD_URL).content.decode()

    select = re.search(r'<select name="role".*?</select>', html, re.S).group(0)
    values = [v for v in re.findall(r'<option value="([^"]*)"', select) if v]
    assert values == (offered or ["client", "reader", "monitor", "admin", "superadmin"])


def _insert_user_as(actor, role: str) -> bool:
    """INSERT an account as the app role bound to `actor`; return whether Postgres let it in."""
    try:
        with transaction.atomic(), bound(_identity(actor)), connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO accounts_user (password, email, role, first_name, last_name, phone, country, timezone,"
                " language, zodiac_sign, is_active, created_at) "
                "VALUES ('!', 'raw.insert@example.com', %s, '', '', '', 'SA', 'UTC', 'en', '', true, now())",
                [role],
            )
            transaction.set_rollback(True)
            return True
    except DatabaseError:
        return False


@pytest.mark.parametrize(
    ("actor", "role", "admitted"),
    [
        ("admin", "superadmin", False),
        ("admin", "admin", False),
        ("admin", "monitor", False),
        ("admin", "client", True),
        ("superadmin", "superadmin", True),
        ("monitor", "client", False),
    ],
)
def test_postgres_lets_only_a_superadmin_insert_staff(personas, actor, role, admitted):
    assert _insert_user_as(personas[actor], role) is admitted
    assert not User.objects.filter(email="raw.insert@example.com").exists()


@pytest.mark.parametrize(("actor", "role", "admitted"), [("admin", "monitor", False), ("superadmin", "monitor", True)])
def test_postgres_lets_only_a_superadmin_promote_to_staff(personas, actor, role, admitted):
    client = personas["client"]
    try:
        with transaction.atomic(), bound(_identity(personas[actor])), connection.cursor() as cursor:
            cursor.execute("UPDATE accounts_user SET role = %s WHERE id = %s", [role, client.pk])
            changed = cursor.rowcount == 1
            transaction.set_rollback(True)
    except DatabaseError:
        changed = False

    assert changed is admitted


# --- 2. blocks only through moderation -------------------------------------------------------------------------------


def test_the_user_form_has_no_block_fields_and_a_monitor_cannot_clear_a_block_with_it(personas, blocked):
    client_user = personas["client"]
    monitor = _logged_in(personas["monitor"])
    url = f"{LIST_URL}{client_user.pk}/change/"

    html = monitor.get(url).content.decode()
    monitor.post(url, {"email": client_user.email, "blocked_at_0": "", "blocked_at_1": "", "is_active": "on"})

    for field in ("blocked_at", "blocked_until", "is_active"):
        assert f'name="{field}' not in html
    client_user.refresh_from_db()
    assert client_user.is_blocked


def test_a_block_change_without_its_moderation_action_is_refused_at_commit(personas):
    # given a client and a monitor that exist for real (the check runs when the transaction commits)
    made = {}

    def setup():
        made["client"] = UserFactory(role="client", email="commit.client@example.com")
        made["monitor"] = UserFactory(role="monitor", email="commit.monitor@example.com")

    assert in_own_connection(setup) == []

    def block_by_hand():
        with bound(_identity(made["monitor"])), connection.cursor() as cursor:
            cursor.execute("UPDATE accounts_user SET blocked_at = now() WHERE id = %s", [made["client"].pk])

    def clean_up():
        User.objects.filter(pk__in=[made["client"].pk, made["monitor"].pk]).delete()

    # when the monitor sets blocked_at with raw SQL and commits
    try:
        failures = in_own_connection(block_by_hand)
    finally:
        in_own_connection(clean_up)

    # then the commit is refused and the client was never blocked
    assert [getattr(error.__cause__, "sqlstate", None) for error in failures] == ["42501"]


def _check_now() -> None:
    """Run the deferred check now, as the commit would (the test's transaction never commits)."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS moderation_user_block_explained IMMEDIATE")
        cursor.execute("SET CONSTRAINTS moderation_user_block_explained DEFERRED")


def test_the_deferred_check_admits_a_block_and_an_unblock_with_their_actions(personas):
    client_user = personas["client"]

    with transaction.atomic(), bound(_identity(personas["monitor"])):
        services.user_block(
            identity=_identity(personas["monitor"]),
            user_id=client_user.pk,
            reason_code="harassment",
            duration=None,
            evidence=[],
        )
        _check_now()
    with transaction.atomic(), bound(_identity(personas["admin"])):
        services.user_unblock(
            identity=_identity(personas["admin"]), user_id=client_user.pk, reason_code="harassment", evidence=[]
        )
        _check_now()

    client_user.refresh_from_db()
    assert not client_user.is_blocked


@pytest.mark.parametrize("actor", ["monitor", "admin"])
def test_a_raw_unblock_without_an_action_is_refused_even_for_an_admin(personas, blocked, actor):
    with pytest.raises(DatabaseError) as refused, transaction.atomic(), bound(_identity(personas[actor])):
        with connection.cursor() as cursor:
            cursor.execute("UPDATE accounts_user SET blocked_at = NULL WHERE id = %s", [personas["client"].pk])
        _check_now()

    assert refused.value.__cause__.sqlstate == "42501"


def _act(client: Client, action: str, user: User, reason: str = "harassment", days: str = "") -> str:
    response = client.post(
        LIST_URL,
        {"action": action, "_selected_action": [user.pk], "reason": reason, "days": days},
        follow=True,
    )
    assert response.status_code == 200
    return response.content.decode()


def test_block_and_unblock_are_back_office_actions_that_go_through_moderation(personas):
    client_user = personas["client"]
    admin_client = _logged_in(personas["admin"])

    page = _act(admin_client, "users_block", client_user, days="3")
    client_user.refresh_from_db()
    block = ModerationAction.objects.get(subject=client_user, action="block")

    assert "1 user blocked" in page
    assert client_user.is_blocked
    assert (block.actor_id, block.reason.code, block.duration.days, block.expires_at) == (
        personas["admin"].pk,
        "harassment",
        3,
        client_user.blocked_until,
    )
    assert block.case is not None

    page = _act(admin_client, "users_unblock", client_user)
    client_user.refresh_from_db()

    assert "1 user unblocked" in page
    assert not client_user.is_blocked
    assert ModerationAction.objects.filter(subject=client_user, action="unblock", actor=personas["admin"]).count() == 1


def test_a_monitor_may_block_but_is_not_offered_unblock(personas, blocked):
    monitor = _logged_in(personas["monitor"])

    html = monitor.get(LIST_URL).content.decode()
    refused = _act(monitor, "users_unblock", personas["client"])

    assert 'value="users_block"' in html
    assert 'value="users_unblock"' not in html
    assert ModerationAction.objects.filter(action="unblock").count() == 0
    assert "No action selected." in refused
    personas["client"].refresh_from_db()
    assert personas["client"].is_blocked


def test_a_block_refused_by_rank_is_a_message_not_an_error_page(personas):
    page = _act(_logged_in(personas["admin"]), "users_block", personas["superadmin"])

    assert "Not blocked: #" in page
    assert not ModerationAction.objects.filter(subject=personas["superadmin"]).exists()


# --- 3. no password hash on any page ---------------------------------------------------------------------------------


@pytest.mark.parametrize("viewer", ["monitor", "admin", "superadmin"])
def test_the_user_change_page_never_renders_the_password_hash(personas, viewer):
    target = personas["client"]
    algorithm, *_, salt, digest = target.password.split("$")

    html = _logged_in(personas[viewer]).get(f"{LIST_URL}{target.pk}/change/").content.decode()

    assert f"Set ({algorithm})" in html
    for secret in (target.password, salt, digest, digest[:6], salt[:6]):
        assert secret not in html
