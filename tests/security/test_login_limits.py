"""Issue 14, item 8: exact login limits that never lock the rightful user out.

Alice owns the account; Mallory guesses at it from elsewhere; Olga is staff behind the office's
address, which Mallory shares.
"""

import threading
from collections import Counter

import pytest
from django.db import connections
from django.test import Client, RequestFactory, override_settings

from samia.accounts.backends import client_ip
from samia.audit.models import AuditEntry
from tests.conftest import api_as, purge_committed_audit_trail
from tests.factories import PASSWORD, UserFactory


@pytest.fixture
def committed(transactional_db):
    """Data the request threads (each with its own connection) see; the audit trail purged before the flush."""
    yield
    purge_committed_audit_trail()


def _login(email, password=PASSWORD, ip="203.0.113.1", **headers):
    return api_as().post(
        "/auth/token", {"email": email, "password": password}, format="json", REMOTE_ADDR=ip, **headers
    )


def _backoffice_login(email, ip, password=PASSWORD) -> bool:
    response = Client().post("/backoffice/login/", {"username": email, "password": password}, REMOTE_ADDR=ip)
    return response.status_code == 302


def _in_parallel(requests: list) -> Counter:
    """Send every request at the same instant, each from its own thread and connection; count the statuses."""
    start = threading.Barrier(len(requests))
    statuses = []

    def send(request):
        try:
            start.wait()
            statuses.append(request().status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send, args=(request,)) for request in requests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Counter(statuses)


# --- exact under concurrency ----------------------------------------------------------------------------------------


def test_30_parallel_wrong_passwords_get_exactly_the_account_limit_of_checks(committed):
    alice = UserFactory(email="alice@example.test")

    statuses = _in_parallel(
        [lambda n=n: _login("alice@example.test", "wrong", ip=f"198.51.100.{n}") for n in range(30)]
    )

    assert statuses == {401: 5, 429: 25}
    assert AuditEntry.objects.filter(action="auth.login.failed", target_id=str(alice.pk)).count() == 5


@override_settings(LOGIN_RATE_LIMITS={"account": (5, 900), "ip": (7, 900)})
def test_30_parallel_guesses_from_one_address_get_exactly_the_address_limit(committed):
    statuses = _in_parallel(
        [lambda n=n: _login(f"guess{n}@example.test", "wrong", ip="198.51.100.7") for n in range(30)]
    )

    assert statuses == {401: 7, 429: 23}


# --- no lockout of the rightful user --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_owner_logs_in_from_a_known_address_while_the_account_is_under_attack(make_user):
    make_user(email="alice@example.test")
    assert _login("alice@example.test", ip="192.0.2.10").status_code == 200  # Alice's home address

    # when: Mallory uses up the account's budget from elsewhere
    guesses = [_login("alice@example.test", "wrong", ip=f"198.51.100.{n}").status_code for n in range(6)]

    # then: Mallory is slowed down, from a new address too, but Alice gets in from home
    assert guesses == [401] * 5 + [429]
    assert _login("alice@example.test", ip="198.51.100.99").status_code == 429
    assert _login("alice@example.test", ip="192.0.2.10").status_code == 200


@pytest.mark.django_db
def test_guessing_from_the_owners_address_has_its_own_limit(make_user):
    make_user(email="alice@example.test")
    assert _login("alice@example.test", ip="192.0.2.10").status_code == 200

    guesses = [_login("alice@example.test", "wrong", ip="192.0.2.10").status_code for _ in range(6)]

    assert guesses == [401] * 5 + [429]


@pytest.mark.django_db
def test_only_failures_count_against_an_address(make_user):
    users = [make_user() for _ in range(25)]

    assert {_login(user.email, ip="192.0.2.50").status_code for user in users} == {200}


# --- staff are not held hostage ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_staff_log_in_to_the_back_office_from_their_office_while_it_is_flooded(make_user):
    olga = make_user(role="admin")
    assert _backoffice_login(olga.email, ip="192.0.2.77")

    # Mallory, behind the same office address, fails 20 times on the back office and on the API
    for n in range(20):
        assert not _backoffice_login(f"guess{n}@example.test", ip="192.0.2.77", password="wrong")
        _login(f"guess{n}@example.test", "wrong", ip="192.0.2.77")
    assert _login("nobody@example.test", "wrong", ip="192.0.2.77").status_code == 429

    assert _backoffice_login(olga.email, ip="192.0.2.77")


@pytest.mark.django_db
def test_api_failures_do_not_close_the_back_office_to_a_new_staff_member(make_user):
    olga = make_user(role="monitor")
    for n in range(20):
        _login(f"guess{n}@example.test", "wrong", ip="192.0.2.78")
    assert _login(olga.email, ip="192.0.2.78").status_code == 429

    assert _backoffice_login(olga.email, ip="192.0.2.78")


# --- the client's address behind trusted proxies -----------------------------------------------------------------


@override_settings(TRUSTED_PROXIES=["10.0.0.0/8"], LOGIN_RATE_LIMITS={"account": (100, 900), "ip": (3, 900)})
@pytest.mark.django_db
def test_the_address_limit_applies_to_the_client_behind_the_proxy_not_to_the_proxy(make_user):
    alice = make_user(email="alice@example.test")
    for n in range(3):
        _login(f"guess{n}@example.test", "wrong", ip="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.9")

    # the proxy's other clients are unaffected; the guessing client is limited, whatever it prepends
    assert _login(alice.email, ip="10.0.0.1", HTTP_X_FORWARDED_FOR="192.0.2.1").status_code == 200
    forged = "192.0.2.200, 198.51.100.9"
    assert _login(alice.email, ip="10.0.0.1", HTTP_X_FORWARDED_FOR=forged).status_code == 429


@override_settings(TRUSTED_PROXIES=["10.0.0.0/8", "172.16.0.5"])
@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        ("10.0.0.1", "", "10.0.0.1"),
        ("10.0.0.1", "203.0.113.5", "203.0.113.5"),
        ("10.0.0.1", "1.1.1.1, 203.0.113.5, 172.16.0.5", "203.0.113.5"),  # rightmost untrusted hop
        ("10.0.0.1", "10.0.0.9, 10.0.0.8", "10.0.0.9"),  # only proxies: the first of them
        ("10.0.0.1", "203.0.113.5, not-an-address", "10.0.0.1"),  # garbage from a proxy proves nothing
        ("198.51.100.4", "203.0.113.5", "198.51.100.4"),  # an untrusted peer's header is ignored
        ("2001:db8::1", "203.0.113.5", "2001:db8::1"),
    ],
)
def test_client_ip_is_the_rightmost_untrusted_forwarded_hop(peer, forwarded, client):
    request = RequestFactory().get("/", REMOTE_ADDR=peer, HTTP_X_FORWARDED_FOR=forwarded)

    assert client_ip(request) == client


def test_client_ip_ignores_forwarded_for_when_no_proxy_is_trusted():
    request = RequestFactory().get("/", REMOTE_ADDR="198.51.100.4", HTTP_X_FORWARDED_FOR="203.0.113.5")

    assert client_ip(request) == "198.51.100.4"
