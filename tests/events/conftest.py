import json

import pytest
from django.conf import settings
from django.db import connection

from samia.redis import get_redis


@pytest.fixture(autouse=True)
def _clean_engagement_keys():
    """Forget the session claims, listen maxima and request counts that earlier tests left in Redis."""
    client = get_redis()
    for key in client.scan_iter(f"{settings.CACHES['default']['KEY_PREFIX']}:events:*"):
        client.delete(key)
    yield


def engagement_events(name: str) -> list[tuple]:
    """Return (actor_id, actor_key, subject_type, subject_id, properties, version) of every `name` event, oldest first."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT actor_id, actor_key, subject_type, subject_id, properties, version FROM events_raw "
            "WHERE name = %s ORDER BY id",
            [name],
        )
        return [(*row[:4], json.loads(row[4]), row[5]) for row in cursor.fetchall()]
