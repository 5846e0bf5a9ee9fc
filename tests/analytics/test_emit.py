"""emit() refuses the analytics events whose properties break their schema."""

import pytest

from samia.events.services import emit

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("name", "properties", "message"),
    [
        ("payment.attempted", {"provider": "stripe", "country": "SA", "currency": "USD", "attempt": 1}, "missing"),
        (
            "payment.attempted",
            {"provider": "stripe", "country": "SA", "amount": 1.5, "currency": "USD", "attempt": 1},
            "decimal",
        ),
        ("call.dropped", {"reader_id": 1, "dropped_by": "the client hung up!"}, "short code"),
        ("notification.clicked", {"channel": "email", "email": "a@b.test"}, "unknown properties"),
        ("order.refunded", {"service": "tarot"}, "missing"),
    ],
)
def test_bad_events_are_refused(name, properties, message):
    with pytest.raises(ValueError, match=message):
        emit(name, 1, properties=properties)
