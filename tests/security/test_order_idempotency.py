"""Issue 14, item 12: `POST /orders` with an `Idempotency-Key` creates one order per client and key
(24 hours): a retry gets the same status and body, another body under the same key is a 409,
another client's key never collides, and two concurrent retries still make one order."""

import datetime as dt
import threading
import uuid

import pytest
from django.db import connections
from django.utils import timezone

from samia.marketplace.models import Order
from tests import factories
from tests.conftest import api_as
from tests.notifications.conftest import committed  # noqa: F401  (committed rows for the threads)

BODY = {"service": "tarot", "question": "Will I move abroad?", "is_gold": False}


def _post(user, key, body=BODY):
    return api_as(user).post("/orders", body, format="json", HTTP_IDEMPOTENCY_KEY=key)


@pytest.mark.django_db
def test_it_returns_the_same_order_to_a_retry_with_the_same_key_and_body(personas):
    factories.ServiceFactory()
    key = str(uuid.uuid4())

    first = _post(personas["client"], key)
    retry = _post(personas["client"], key)

    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.json() == first.json()
    assert "Idempotent-Replayed" not in first and retry["Idempotent-Replayed"] == "true"
    assert list(Order.objects.values_list("id", flat=True)) == [first.json()["id"]]


@pytest.mark.django_db
def test_it_refuses_the_same_key_with_another_body_and_creates_nothing(personas):
    factories.ServiceFactory()
    key = str(uuid.uuid4())
    first = _post(personas["client"], key)

    other = _post(personas["client"], key, {**BODY, "question": "Will I change jobs?"})

    assert other.status_code == 409
    error = other.json()["error"]
    assert (error["code"], error["details"]) == ("conflict", {"reason": "idempotency_key_reused"})
    assert list(Order.objects.values_list("id", flat=True)) == [first.json()["id"]]


@pytest.mark.django_db
def test_it_keeps_keys_per_client(personas):
    factories.ServiceFactory()
    key = "order-attempt-1"

    alice = _post(personas["client"], key)
    bob = _post(personas["other_client"], key)
    alice_again = _post(personas["client"], key)

    assert (alice.status_code, bob.status_code) == (201, 201)
    assert alice.json()["id"] != bob.json()["id"]
    assert bob.json()["client_id"] == personas["other_client"].pk and "Idempotent-Replayed" not in bob
    assert alice_again.json() == alice.json() and Order.objects.count() == 2


@pytest.mark.django_db
def test_it_forgets_a_key_after_24_hours(personas):
    from samia.marketplace.models import OrderIdempotencyKey

    factories.ServiceFactory()
    first = _post(personas["client"], "k-1")
    OrderIdempotencyKey.objects.update(created_at=timezone.now() - dt.timedelta(hours=24, seconds=1))

    later = _post(personas["client"], "k-1", {**BODY, "question": "Another question"})

    assert later.status_code == 201 and later.json()["id"] != first.json()["id"]
    assert Order.objects.count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["", "a b", "x" * 256, "ключ"])
def test_it_refuses_a_malformed_key_and_creates_nothing(personas, key):
    factories.ServiceFactory()

    response = _post(personas["client"], key)

    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == ["Idempotency-Key"]
    assert not Order.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_retries_create_one_order(personas, committed):  # noqa: F811
    factories.ServiceFactory()
    client, key = personas["client"], str(uuid.uuid4())
    barrier, answers = threading.Barrier(2), []

    def retry():
        try:
            barrier.wait()
            response = _post(client, key)
            answers.append((response.status_code, response.json()))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=retry) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [status for status, _ in answers] == [201, 201]
    assert answers[0][1] == answers[1][1]
    assert list(Order.objects.values_list("id", flat=True)) == [answers[0][1]["id"]]


@pytest.mark.django_db
def test_a_periodic_job_purges_expired_keys(personas):
    from django_celery_beat.models import PeriodicTask

    from samia.marketplace.models import OrderIdempotencyKey
    from samia.marketplace.tasks import purge_idempotency_keys

    factories.ServiceFactory()
    _post(personas["client"], "old")
    _post(personas["client"], "fresh")
    OrderIdempotencyKey.objects.filter(key="old").update(created_at=timezone.now() - dt.timedelta(hours=25))

    assert purge_idempotency_keys() == 1
    assert list(OrderIdempotencyKey.objects.values_list("key", flat=True)) == ["fresh"]
    task = PeriodicTask.objects.get(name="marketplace.purge_idempotency_keys")
    assert (task.enabled, task.interval.every, task.interval.period) == (True, 1, "hours")
