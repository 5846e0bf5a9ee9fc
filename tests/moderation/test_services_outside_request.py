"""Moderation services run from a worker, the back office or a command: their refusals are Django and domain
errors, never DRF's HTTP exceptions, and they leave nothing behind."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from rest_framework.exceptions import APIException

from moderation import appeals, lineage, services
from moderation.models import Appeal, Case, ModerationAction
from samia.accounts.models import User
from samia.exceptions import Conflict
from samia.marketplace.models import Order
from samia.rls.binding import bound
from tests.moderation.conftest import identity, state

pytestmark = pytest.mark.django_db

MISSING = 999999


def _block(me, target):
    return services.user_block(identity=me, user_id=target, reason_code="spam", duration=None, evidence=[])


# name: (actor, call(identity, personas), the error, its message)
REFUSALS = {
    "unknown user": ("monitor", lambda me, p: _block(me, MISSING), User.DoesNotExist, "No such user."),
    "yourself": (
        "monitor",
        lambda me, p: _block(me, p["monitor"].pk),
        PermissionDenied,
        "You may not block yourself.",
    ),
    "higher rank": (
        "monitor",
        lambda me, p: _block(me, p["admin"].pk),
        PermissionDenied,
        "You may not block a user of your rank or above.",
    ),
    "not blocked": (
        "admin",
        lambda me, p: services.user_unblock(identity=me, user_id=p["reader"].pk, reason_code="other", evidence=[]),
        Conflict,
        "This user is not blocked.",
    ),
    "unknown order": (
        "monitor",
        lambda me, p: services.order_moderate(
            identity=me, order_id=MISSING, action="hold", reason_code="fraud", evidence=[]
        ),
        Order.DoesNotExist,
        "No such order.",
    ),
    "unknown case": (
        "monitor",
        lambda me, p: services.case_resolve(identity=me, case_id=MISSING, note="Done."),
        Case.DoesNotExist,
        "No such case.",
    ),
    "unknown lineage case": (
        "monitor",
        lambda me, p: lineage.lineage_recompute(identity=me, case_id=MISSING),
        Case.DoesNotExist,
        "No such case.",
    ),
    "unknown action": (
        "client",
        lambda me, p: appeals.appeal_open(identity=me, action_id=MISSING),
        ModerationAction.DoesNotExist,
        "No such action.",
    ),
    "unknown appeal": (
        "admin",
        lambda me, p: appeals.appeal_resolve(identity=me, appeal_id=MISSING, decision="uphold", rationale="x"),
        Appeal.DoesNotExist,
        "No such appeal.",
    ),
}


@pytest.mark.parametrize("name", sorted(REFUSALS))
def test_a_refusal_outside_a_request_is_a_django_or_domain_error(personas, name):
    actor, call, expected, message = REFUSALS[name]
    me = identity(personas[actor])
    before = state()

    # when the service runs as a worker runs it: no request, the identity bound to the connection
    with pytest.raises(expected) as raised, bound(me):
        call(me, personas)

    # then the error is the domain's, in words, and nothing changed
    assert not isinstance(raised.value, APIException)
    assert str(raised.value) == message
    assert state() == before


def test_a_conflict_outside_a_request_carries_its_details(personas):
    me = identity(personas["admin"])

    with pytest.raises(Conflict) as raised, bound(me):
        services.user_unblock(identity=me, user_id=personas["reader"].pk, reason_code="other", evidence=[])

    assert not isinstance(raised.value, APIException)
    assert (raised.value.code, raised.value.status, raised.value.details) == ("conflict", 409, {"status": "active"})


def test_a_validation_error_outside_a_request_names_its_field(personas):
    me = identity(personas["monitor"])
    before = state()

    with pytest.raises(ValidationError) as raised, bound(me):
        services.user_block(
            identity=me, user_id=personas["client"].pk, reason_code="sadness", duration=None, evidence=[]
        )

    assert not isinstance(raised.value, APIException)
    assert raised.value.message_dict == {"reason": ["Unknown or inactive reason code."]}
    assert state() == before
