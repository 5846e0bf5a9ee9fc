import datetime as dt

import pytest
from django.db import connection

from samia.events.services import emit
from samia.rls.registry import Identity

UTC = dt.UTC


@pytest.fixture(autouse=True)
def _partitions(db):
    """The hand-built datasets live in fixed months; make sure their partitions exist."""
    with connection.cursor() as cursor:
        for month in ("2026_10", "2026_11"):
            year, number = int(month[:4]), int(month[5:])
            low = dt.date(year, number, 1)
            high = (low.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS events_raw_{month} PARTITION OF events_raw "
                f"FOR VALUES FROM ('{low} 00:00:00+00') TO ('{high} 00:00:00+00')"
            )


def at(text: str) -> dt.datetime:
    """A UTC instant from 'YYYY-MM-DD HH:MM[:SS]'."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def event(name: str, when: dt.datetime, *, actor: int | None = None, subject=None, key: str = "", **properties):
    emit(
        name,
        1,
        actor=Identity(actor, "client") if actor else None,
        anonymous_key=key,
        subject=subject,
        properties=properties,
        occurred_at=when,
    )


def order_event(action: str, order_id: int, when: dt.datetime, *, service="tarot", reader_id=None):
    properties = {"service": service, "gold": False}
    if action != "refunded":
        properties["to_status"] = action
    if reader_id is not None:
        properties["reader_id"] = reader_id
    event(f"order.{action}", when, subject=("marketplace.order", order_id), **properties)


@pytest.fixture
def readers(personas):
    return personas["reader"].pk, personas["other_reader"].pk
