import datetime as dt

import pytest
from django.utils import timezone

from personalization.nightly import inputs_refresh, train_all
from tests import factories


def delivered(client, reader, service, days_ago: int):
    """A delivered order of `client` with `reader`, `days_ago` days ago."""
    when = timezone.now() - dt.timedelta(days=days_ago, hours=1)
    return factories.OrderFactory(
        client=client, reader=reader, service=service, status="delivered", delivered_at=when, created_at=when
    )


@pytest.fixture
def catalogue(personas):
    """Readers 1..4 (the personas' reader first), two services, and two groups of clients with a taste each.

    Group A (6 clients) orders readers 1 and 2, group B (7 clients) readers 3 and 4; `client` ordered
    reader 1 only, so the model ranks reader 2 right after reader 1, popularity ranks readers 1, 3, 4, 2.
    """
    make = factories.UserFactory
    readers = [personas["reader"], personas["other_reader"], make(role="reader"), make(role="reader")]
    tarot = factories.ServiceFactory(code="tarot", name="Tarot")
    coffee = factories.ServiceFactory(code="coffee", name="Coffee cup")
    group_a = [make(role="client") for _ in range(6)]
    group_b = [make(role="client") for _ in range(7)]
    for n, client in enumerate(group_a):
        delivered(client, readers[0], tarot, 20 + n)
        delivered(client, readers[1], tarot, 12 + n)
    for n, client in enumerate(group_b):
        delivered(client, readers[2], coffee, 20 + n)
        delivered(client, readers[3], coffee, 12 + n)
        delivered(client, readers[2], coffee, 2)
    delivered(personas["client"], readers[0], tarot, 15)
    return {"readers": readers, "services": [tarot, coffee], "group_a": group_a, "group_b": group_b}


@pytest.fixture
def trained(catalogue):
    """The nightly job's inputs and models over the catalogue."""
    inputs_refresh()
    train_all()
    return catalogue
