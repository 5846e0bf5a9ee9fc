import pytest

from moderation import services
from moderation.models import Appeal, Case, ModerationAction
from samia.accounts.models import User
from samia.audit.models import AuditEntry
from samia.rls.registry import Identity
from tests import factories
from tests.conftest import api_as


def identity(user) -> Identity:
    return Identity(user.pk, user.role)


@pytest.fixture
def blocked(personas):
    """The client, blocked for a day by the monitor: returns the block action."""
    return services.user_block(
        identity=identity(personas["monitor"]),
        user_id=personas["client"].pk,
        reason_code="harassment",
        duration=None,
        evidence=["msg:17"],
    )


@pytest.fixture
def held(world):
    """The client's in-progress order, put on hold by the monitor: returns (case, [action])."""
    order = world["orders"]["in_progress"]
    return services.order_moderate(
        identity=identity(world["personas"]["monitor"]),
        order_id=order.pk,
        action="hold",
        reason_code="fraud",
        evidence=[],
    )


@pytest.fixture
def order_with_media(personas):
    order = factories.OrderFactory(client=personas["client"], reader=personas["reader"], status="awaiting_approval")
    return order


def audited(action) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action).order_by("id"))


def state():
    """Everything a refused request must leave as it was."""
    return (
        list(User.objects.order_by("id").values("id", "blocked_at", "blocked_until")),
        list(ModerationAction.objects.order_by("id").values()),
        list(Case.objects.order_by("id").values()),
        list(Appeal.objects.order_by("id").values()),
        AuditEntry.objects.filter(family="moderation").count(),
    )


def moderate(user, order, action, reason="fraud", **extra):
    return api_as(user).post(
        f"/monitor/moderate/order/{order.pk}", {"action": action, "reason": reason, **extra}, format="json"
    )
