"""The back-office review queue: filters, stale column, review and approve actions; admins only."""

import pytest
from django.test import Client

from i18n.models import FieldTranslation
from i18n.selectors import sha256
from samia.audit.models import AuditEntry
from samia.marketplace.models import Horoscope
from tests import factories
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db
QUEUE = "/backoffice/i18n/fieldtranslation/"


def _logged_in(user) -> Client:
    client = Client()
    assert client.post("/backoffice/login/", {"username": user.email, "password": PASSWORD}).status_code == 302
    return client


def _row(horoscope, *, status="auto", source=None) -> FieldTranslation:
    return FieldTranslation.objects.create(
        model="marketplace.Horoscope",
        object_id=horoscope.pk,
        field="text",
        language="ar",
        source_lang="en",
        status=status,
        source_sha256=sha256(horoscope.text_en if source is None else source),
    )


def test_an_admin_filters_the_queue_and_approves_refusing_the_stale_row(personas):
    current = _row(factories.HoroscopeFactory(sign="aries"))
    stale = _row(factories.HoroscopeFactory(sign="leo"), source="an earlier text")
    client = _logged_in(personas["admin"])

    auto_page = client.get(QUEUE, {"status": "auto"})
    stale_page = client.get(QUEUE, {"stale": "1"})
    approve = client.post(
        QUEUE, {"action": "translations_approved", "_selected_action": [current.pk, stale.pk]}, follow=True
    )

    assert [auto_page.status_code, stale_page.status_code, approve.status_code] == [200, 200, 200]
    assert list(stale_page.context["cl"].result_list) == [stale]
    assert dict(FieldTranslation.objects.values_list("id", "status")) == {current.pk: "approved", stale.pk: "auto"}
    assert f"#{stale.pk}" in approve.content.decode() and "stale" in approve.content.decode()
    assert AuditEntry.objects.filter(action="i18n.review.approved").count() == 1


@pytest.mark.parametrize(("role", "expected"), [("monitor", 403), ("admin", 200), ("superadmin", 200)])
def test_only_admins_open_the_queue(personas, role, expected):
    _row(factories.HoroscopeFactory(sign="aries"))
    assert _logged_in(personas[role]).get(QUEUE).status_code == expected


def test_the_back_office_approval_names_a_horoscope_with_an_unreviewed_translation(personas):
    horoscope = factories.HoroscopeFactory(sign="virgo", approval_status="pending")
    _row(horoscope)
    client = _logged_in(personas["admin"])
    response = client.post(
        "/backoffice/marketplace/horoscope/",
        {"action": "horoscope_approve", "_selected_action": [horoscope.pk]},
        follow=True,
    )
    assert Horoscope.objects.get(pk=horoscope.pk).approval_status == "pending"
    assert f"#{horoscope.pk}" in response.content.decode()
