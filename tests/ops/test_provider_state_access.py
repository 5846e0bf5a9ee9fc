"""Review finding S5: the switches' rows (reason, who switched) are for staff; whether a provider is on is for everyone."""

from __future__ import annotations

import pytest
from django.utils import timezone

from ops.models import ProviderState
from samia.providers import registry, toggles
from samia.providers.base import ProviderUnavailable
from samia.rls.binding import bound
from samia.rls.registry import ANONYMOUS_IDENTITY, Identity
from tests.conftest import rows_as

pytestmark = pytest.mark.django_db

REASON = "carrier outage ticket 4711"


@pytest.fixture
def switched_off(personas):
    return ProviderState.objects.create(
        name="sms", enabled=False, reason=REASON, changed_by=personas["admin"], changed_at=timezone.now()
    )


@pytest.mark.parametrize("persona", ["client", "reader", "anonymous"])
def test_it_hides_the_rows_from_non_staff_but_answers_whether_a_provider_is_on(personas, switched_off, persona):
    identity = ANONYMOUS_IDENTITY if persona == "anonymous" else Identity(personas[persona].pk, persona)

    assert rows_as(identity, "SELECT name, enabled, reason, changed_by_id FROM ops_providerstate") == []
    assert rows_as(identity, "SELECT count(*) FROM ops_providerstate WHERE reason = %s", [REASON]) == [(0,)]
    assert rows_as(identity, "SELECT samia.provider_enabled('sms'), samia.provider_enabled('fcm')") == [(False, True)]


@pytest.mark.parametrize("persona", ["monitor", "admin", "superadmin"])
def test_it_shows_staff_the_rows(personas, switched_off, persona):
    identity = Identity(personas[persona].pk, persona)

    assert rows_as(identity, "SELECT name, enabled, reason, changed_by_id FROM ops_providerstate") == [
        ("sms", False, REASON, personas["admin"].pk)
    ]


def test_a_clients_request_still_sees_the_switch(personas, switched_off):
    toggles._local.clear()
    toggles.forget("sms")
    with bound(Identity(personas["client"].pk, "client")), pytest.raises(ProviderUnavailable) as refused:
        registry.get("sms")

    assert refused.value.reason == "disabled"
    with bound(Identity(personas["client"].pk, "client")):
        assert toggles.enabled("sms") is False
