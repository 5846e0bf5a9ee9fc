"""Twilio webhooks and tracking links: verified, stored once in the inbox, applied by the inbox job."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from notifications.policies import INBOX_TABLE
from samia.rls.registry import ANONYMOUS_IDENTITY, Identity
from tests.conftest import api_as, rows_as
from tests.notifications.helpers import recipient
from tests.notifications.webhook_helpers import INBOUND, STATUS, inbound, post_signed

pytestmark = pytest.mark.django_db


# ---------------------------------------------------------------------------------------------
# The inbox under row-level security


def _views():
    def walk(patterns):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns)
            elif isinstance(pattern, URLPattern) and hasattr(pattern.callback, "view_class"):
                yield pattern.callback.view_class

    return list(walk(get_resolver().url_patterns))


def test_no_route_reads_the_inbox():
    readers = [
        view.__name__
        for view in _views()
        for access in getattr(view, "access", {}).values()
        if getattr(access, "table", None) == INBOX_TABLE and access.operation != "insert"
    ]
    writers = {
        view.__name__
        for view in _views()
        for access in getattr(view, "access", {}).values()
        if getattr(access, "table", None) == INBOX_TABLE
    }

    assert readers == []
    assert writers == {"TwilioStatusView", "TwilioInboundView", "TrackingView", "ClickView"}


@pytest.mark.parametrize("path", [STATUS, INBOUND])
def test_a_client_cannot_read_the_webhook_routes(twilio, personas, path):
    post_signed(STATUS, twilio.status_callback_form("SM" + "a" * 32, "delivered"))

    response = api_as(personas["client"]).get(path)

    assert response.status_code == 405
    assert "SM" + "a" * 32 not in response.content.decode()


@pytest.mark.parametrize("who", ["client", "reader", "monitor", "anonymous"])
def test_the_inbox_is_invisible_to_everyone_but_admins(twilio, personas, who):
    recipient()
    inbound(twilio, "STOP")
    post_signed(STATUS, twilio.status_callback_form("SM" + "a" * 32, "delivered"))
    identity = ANONYMOUS_IDENTITY if who == "anonymous" else Identity(personas[who].pk, who)
    admin = Identity(personas["admin"].pk, "admin")
    sql = f"SELECT count(*) FROM {INBOX_TABLE}"

    assert rows_as(identity, sql) == [(0,)]
    assert rows_as(admin, sql) == [(2,)]
