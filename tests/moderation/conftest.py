import pytest

from moderation import services
from samia.rls.registry import Identity
from tests import factories


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
