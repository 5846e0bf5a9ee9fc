"""The users' pages (issue 15, item 5): people by display name and masked email, roles by label, times in the
staff member's zone; the list costs the same queries however long it is. The privilege rules are issue 14's
(tests/security/test_backoffice_privilege.py)."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from samia.accounts.models import User
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

USERS = "/backoffice/accounts/user/"


def _logged_in(user) -> Client:
    client = Client()
    assert client.post("/backoffice/login/", {"username": user.email, "password": PASSWORD}).status_code == 302
    return client


@pytest.mark.parametrize(
    ("first", "last", "email", "shown"),
    [
        ("Nora", "Haddad", "nora@demo.samia.test", "Nora Haddad (n***@demo.samia.test)"),
        ("", "", "sami@demo.samia.test", "s***@demo.samia.test"),
        ("ليلى", "", "layla@example.test", "ليلى (l***@example.test)"),
    ],
)
def test_a_user_reads_as_a_name_and_a_masked_email(first, last, email, shown):
    assert str(User(first_name=first, last_name=last, email=email, role="client")) == shown


@pytest.mark.parametrize("role", ["monitor", "admin", "superadmin"])
def test_the_list_shows_people_not_ids_with_labels_and_zoned_times(personas, role):
    staff = personas[role]
    staff.timezone = "Asia/Riyadh"
    staff.save()
    UserFactory(role="reader", first_name="Nora", last_name="Haddad", email="nora@demo.samia.test")

    listing = _logged_in(staff).get(USERS).content.decode()

    assert "Nora Haddad (n***@demo.samia.test)" in listing
    assert "nora@demo.samia.test" not in listing
    assert "reader #" not in listing and ">Reader<" in listing
    assert "(Asia/Riyadh)" in listing


@pytest.mark.parametrize("role", ["monitor", "admin", "superadmin"])
def test_the_user_page_shows_times_in_the_staff_members_zone(personas, role):
    staff = personas[role]
    staff.timezone = "America/New_York"
    staff.save()
    client_user = personas["client"]

    page = _logged_in(staff).get(f"{USERS}{client_user.pk}/change/")

    assert page.status_code == 200
    assert "(America/New_York)" in page.content.decode()


def test_an_unknown_zone_on_a_profile_falls_back_to_utc(personas):
    staff = personas["admin"]
    User.objects.filter(pk=staff.pk).update(timezone="Mars/Olympus")

    listing = _logged_in(staff).get(USERS)

    assert listing.status_code == 200
    assert "(UTC)" in listing.content.decode()


@pytest.mark.parametrize("role", ["client", "reader"])
def test_clients_and_readers_get_no_back_office(personas, role):
    client = Client()
    client.force_login(personas[role])

    assert client.get(USERS).status_code == 302


def test_the_user_list_costs_the_same_queries_for_few_or_many_users(personas):
    client = _logged_in(personas["admin"])
    client.get(USERS)
    with CaptureQueriesContext(connection) as few:
        client.get(USERS)
    for _ in range(20):
        UserFactory(role="client")
    with CaptureQueriesContext(connection) as many:
        client.get(USERS)

    assert len(many) == len(few)
