"""Concurrent scheduling, and a dispatcher killed in the middle of a batch."""

import os
import signal
import subprocess
import sys
import threading
import time

from django.conf import settings
from django.db import connection, connections
from django.utils import timezone

from notifications import dispatch as dispatcher
from notifications import planning
from notifications.models import Send
from samia.rls.binding import bound
from tests import factories
from tests.notifications.conftest import SERVICE_SID, TWILIO_SID, TWILIO_TOKEN
from tests.notifications.helpers import identity, notify, recipient


def test_concurrent_schedule_calls_plan_each_recipient_once(committed):
    admin = factories.UserFactory(role="admin")
    for index in range(30):
        recipient(zone=("Asia/Tokyo", "Europe/Berlin", "America/Chicago")[index % 3], phone=f"+4477009{index:05d}")
    data = {
        "name": "Offer",
        "purpose": "marketing",
        "channel": "sms",
        "audience": {"roles": ["client"]},
        "templates": {"en": {"title": "", "body": "Offer"}},
        "send_on": timezone.now().date(),
        "local_time": timezone.datetime(2000, 1, 1, 10, 0).time(),
        "window_hours": 6,
    }
    with bound(identity(admin)):
        campaign = planning.campaign_create(identity=identity(admin), data=data)
    created, errors = [], []
    barrier = threading.Barrier(4)

    def schedule():
        try:
            barrier.wait()
            with bound(identity(admin)):
                created.append(planning.campaign_schedule(identity=identity(admin), campaign_id=campaign.pk)[1])
        except Exception as error:  # collected and asserted below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=schedule) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(created) == [0, 0, 0, 30]
    assert Send.objects.filter(campaign=campaign).count() == 30


def _worker(twilio, lease_seconds: int) -> subprocess.Popen:
    """A dispatcher in its own process, on the test database, sending through the fake."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": f"postgres://{connection.settings_dict['USER'] or 'root'}@127.0.0.1:5432/{connection.settings_dict['NAME']}",
        "TWILIO_ACCOUNT_SID": TWILIO_SID,
        "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
        "TWILIO_MESSAGING_SERVICE_SID": SERVICE_SID,
        "TWILIO_API_BASE": twilio.base_url,
        "NOTIFICATIONS_LEASE_SECONDS": str(lease_seconds),
        "PROVIDER_TIMEOUT_SECONDS": "1",
        "NOTIFICATIONS_SEND_CONCURRENCY": "4",
    }
    code = "import django; django.setup(); from notifications.dispatch import dispatch; print(dispatch(budget_seconds=5), flush=True)"
    return subprocess.Popen(
        [sys.executable, "-c", code],
        env=env,
        cwd=settings.BASE_DIR,
        stderr=subprocess.STDOUT,
        stdout=subprocess.PIPE,
        text=True,
    )


def test_a_killed_worker_loses_nothing_and_sends_no_sms_twice(committed, twilio):
    users = [recipient(phone=f"+4477001{index:05d}") for index in range(20)]
    sends = [notify(user)[0] for user in users]
    for user in users:
        twilio.script(user.phone, status=201, code=None, delay=0.15, times=None)

    worker = _worker(twilio, lease_seconds=4)
    deadline = time.monotonic() + 30
    while len(twilio.messages_posted()) < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(worker.pid, signal.SIGKILL)  # mid-batch, possibly between the provider's answer and our commit
    worker.wait()
    before = [m["To"] for m in twilio.messages_posted()]
    assert 5 <= len(before) < 20, worker.stdout.read()[-3000:]

    time.sleep(4.2)  # the dead worker's claim lapses
    twilio.reset()
    report = dispatcher.dispatch(budget_seconds=20)

    after = [m["To"] for m in twilio.messages_posted()]
    rows = {
        pk: (state, phone)
        for pk, state, phone in Send.objects.filter(pk__in=[s.pk for s in sends]).values_list(
            "id", "state", "user__phone"
        )
    }
    states = [state for state, _ in rows.values()]
    assert set(states) <= {"sent", "unknown"}, rows  # nothing lost, nothing left pending
    assert report["reaped"] >= 1
    # No SMS went out twice: the second dispatcher sent only what had certainly not left.
    assert len(set(before)) == len(before) and not set(before) & set(after)
    # Everything recorded as sent really went out; the unknown ones are at most those in flight
    # when the worker died (one per sending thread), and were not sent again.
    assert {phone for state, phone in rows.values() if state == "sent"} <= set(before) | set(after)
    unknown = {phone for state, phone in rows.values() if state == "unknown"}
    assert len(unknown) <= 4 and not unknown & set(after)
    assert len(set(before) | set(after)) >= 20 - len(unknown)
