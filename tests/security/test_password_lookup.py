"""Issue 14, item 3 (the database half): no password hash reaches a samia_app session.

The identity lookups that precede binding mask the hash; only samia.login_check sees it, and it
answers yes or no to a candidate hash derived from the salt.
"""

import pytest
from django.contrib.auth.hashers import make_password
from django.test import Client

from samia.accounts.models import User
from samia.rls import binding
from samia.rls.binding import bound
from samia.rls.registry import ANONYMOUS_IDENTITY
from tests.conftest import api_as
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def _hash_of(user) -> str:
    return User.objects.values_list("password", flat=True).get(pk=user.pk)


def _lookup(sql: str, value, purpose: str, proof=None):
    """Run an identity lookup as a request's connection does; `proof` None: the app's own proof."""
    from django.db import connection

    with bound(ANONYMOUS_IDENTITY), connection.cursor() as cursor:
        proof = binding.purpose_proof(purpose, str(value)) if proof is None else proof
        cursor.execute(sql, [value, proof])
        return cursor.fetchall()


BY_EMAIL = ("SELECT password FROM samia.identity_by_email(%s, %s)", "email")
BY_ID = ("SELECT password FROM samia.identity(%s, %s)", "identity")


@pytest.mark.parametrize("lookup", [BY_EMAIL, BY_ID], ids=["by-email", "by-id"])
def test_an_anonymous_app_session_never_reads_a_password_hash(make_user, lookup):
    alice = make_user(email="alice@example.test")
    stored = _hash_of(alice)

    # when: any request's connection (samia_app, nobody bound) calls the identity lookups
    sql, purpose = lookup
    [(password,)] = _lookup(sql, "ALICE@example.test" if purpose == "email" else alice.pk, purpose)

    # then: the algorithm, cost and salt at most, unusable to Django, never the hash
    digest = stored.rsplit("$", 1)[1]
    assert password == "!" + stored.rsplit("$", 1)[0]
    assert digest not in password


def test_an_account_without_a_usable_password_shows_nothing_of_it(make_user):
    alice = make_user(email="alice@example.test")
    User.objects.filter(pk=alice.pk).update(password="!" + "x" * 40)

    assert _lookup(BY_ID[0], alice.pk, "identity") == [("!",)]


@pytest.mark.parametrize("lookup", [BY_EMAIL, BY_ID], ids=["by-email", "by-id"])
@pytest.mark.parametrize("proof", ["", "0" * 64, "identity"])
def test_without_the_apps_proof_the_lookups_show_no_account(make_user, lookup, proof):
    # Review stop 26, R1: the app's login alone walked every account's email, phone and language.
    alice = make_user(email="alice@example.test", phone="+966500000017")
    sql, purpose = lookup

    assert _lookup(sql, alice.email if purpose == "email" else alice.pk, purpose, proof) == []
    # a proof for one value opens no other
    other = binding.purpose_proof(purpose, "bob@example.test" if purpose == "email" else str(alice.pk + 1))
    assert _lookup(sql, alice.email if purpose == "email" else alice.pk, purpose, other) == []


def _check(user_id, candidate, proof=None):
    """Call samia.login_check as a request's connection does; `proof` None: the app's own proof."""
    from django.db import connection

    with bound(ANONYMOUS_IDENTITY), connection.cursor() as cursor:
        proof = binding.purpose_proof("login", str(user_id)) if proof is None else proof
        cursor.execute("SELECT samia.login_check(%s, %s, %s)", [user_id, candidate, proof])
        return cursor.fetchone()[0]


def test_login_check_answers_only_whether_a_candidate_hash_matches(make_user):
    alice = make_user(email="alice@example.test")
    salt = _hash_of(alice).split("$")[1]  # md5$salt$hash under the test settings

    assert _check(alice.pk, make_password(PASSWORD, salt)) is True
    assert _check(alice.pk, make_password("wrong-guess", salt)) is False
    # the masked value the lookups hand out is no key either
    masked = _lookup(BY_ID[0], alice.pk, "identity")[0][0]
    assert _check(alice.pk, masked) is False


@pytest.mark.parametrize("proof", ["", "0" * 64, "login"])
def test_login_check_without_the_apps_proof_says_no_to_the_right_password(make_user, proof):
    # Review stop 26, R1: a session holding the app's login but not the binding key could otherwise test
    # guesses at hashing cost with no login limit in the way.
    alice = make_user(email="alice@example.test")
    right = make_password(PASSWORD, _hash_of(alice).split("$")[1])

    assert _check(alice.pk, right, proof) is False


def test_a_proof_for_another_account_opens_nothing(make_user):
    alice, bob = make_user(email="alice@example.test"), make_user(email="bob@example.test")
    right = make_password(PASSWORD, _hash_of(alice).split("$")[1])

    with bound(ANONYMOUS_IDENTITY):
        bobs = binding.purpose_proof("login", str(bob.pk))
    assert _check(alice.pk, right, bobs) is False
    assert _check(alice.pk, right) is True


def test_the_login_still_opens_the_account_and_refuses_a_wrong_password(make_user):
    make_user(email="alice@example.test")
    login = api_as().post

    assert login("/auth/token", {"email": "alice@example.test", "password": PASSWORD}, format="json").status_code == 200
    assert login("/auth/token", {"email": "alice@example.test", "password": "nope"}, format="json").status_code == 401


def test_a_back_office_session_ends_when_the_password_changes(make_user):
    admin = make_user(role="admin")
    client = Client()
    assert client.post("/backoffice/login/", {"username": admin.email, "password": PASSWORD}).status_code == 302
    assert client.get("/backoffice/").status_code == 200

    admin.set_password("another-long-password")
    admin.save(update_fields=["password"])

    assert client.get("/backoffice/").status_code == 302
