"""Issue 14, item 14: a push token registered by a second account moves to it (the install owns the
token, as FCM and APNs have it); the previous owner's sends stop reaching that device, and the move
is audited without the token."""

import pytest

from notifications import dispatch as dispatcher
from samia.audit.models import AuditEntry
from tests.conftest import api_as
from tests.notifications.conftest import fcm, fcm_server  # noqa: F401  (the fake FCM fixtures)
from tests.notifications.helpers import notify, recipient

pytestmark = pytest.mark.django_db

TOKEN = "install-token-7f3a"


def test_it_moves_a_token_to_its_newest_owner_stops_the_previous_owners_push_and_audits_the_move(fcm):  # noqa: F811
    # given Alice registered the phone, then Bob signed in on it and registered the same token
    alice = recipient(channels=("push",), purpose="transactional", device=TOKEN)
    bob = recipient(channels=("push",), purpose="transactional")
    answer = api_as(bob).post("/me/devices", {"platform": "fcm", "token": TOKEN}, format="json")
    assert answer.status_code == 201

    # when each of them is sent a push
    (to_alice,) = notify(alice, channels=("push",))
    (to_bob,) = notify(bob, channels=("push",))
    dispatcher.dispatch(budget_seconds=5)

    # then only Bob's reaches the device; Alice's has no device left
    to_alice.refresh_from_db()
    to_bob.refresh_from_db()
    assert (to_alice.state, to_alice.last_error) == ("failed", "no_device")
    assert to_bob.state == "sent"
    assert [r["message"]["data"]["send_id"] for r in fcm.requests] == [str(to_bob.pk)]
    # and the move is audited with ids only, never the token
    entry = AuditEntry.objects.get(action="notifications.device.reassign")
    assert (entry.actor_id, entry.target_id) == (bob.pk, str(answer.json()["id"]))
    assert entry.details == {"platform": "fcm", "from_user_id": alice.pk}
    assert TOKEN not in entry.payload


def test_it_does_not_audit_a_token_registered_again_by_its_own_owner(fcm):  # noqa: F811
    alice = recipient(channels=("push",), purpose="transactional", device=TOKEN)

    answer = api_as(alice).post("/me/devices", {"platform": "fcm", "token": TOKEN}, format="json")

    assert answer.status_code == 201
    assert not AuditEntry.objects.filter(action="notifications.device.reassign").exists()
