"""The pipelined dispatcher across real worker processes: shared rate limits, shared pauses, a kill -9.

The fake Twilio runs in this process and counts requests per second (tests/fakes/realism.py);
each worker is a real `dispatch()` in its own process on the test database, sharing Redis with
the others (the same CACHE_KEY_PREFIX), as two Celery workers would.
"""

import json
import os
import signal
import subprocess
import sys
import threading
import time

from django.conf import settings
from django.db import connection

from notifications import dispatch as dispatcher
from notifications import services
from notifications.dispatch import claim, load
from notifications.dispatch.pipeline import Pipeline
from notifications.models import Send
from tests.fakes.realism import Realism
from tests.notifications.conftest import SERVICE_SID, TWILIO_SID, TWILIO_TOKEN
from tests.notifications.helpers import notify, recipient

WORKER = (
    "import json, django; django.setup(); from notifications.dispatch import dispatch; "
    "print(json.dumps(dispatch(budget_seconds={budget})), flush=True)"
)


def _worker(twilio, *, budget: float = 20, **environment) -> subprocess.Popen:
    """A dispatcher in its own process, on the test database, sending through the fake."""
    user = connection.settings_dict["USER"] or "root"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": f"postgres://{user}@127.0.0.1:5432/{connection.settings_dict['NAME']}",
        "TWILIO_ACCOUNT_SID": TWILIO_SID,
        "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
        "TWILIO_MESSAGING_SERVICE_SID": SERVICE_SID,
        "TWILIO_API_BASE": twilio.base_url,
        "PROVIDER_TIMEOUT_SECONDS": "2",
        **environment,
    }
    return subprocess.Popen(
        [sys.executable, "-c", WORKER.format(budget=budget)],
        env=env,
        cwd=settings.BASE_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _report(worker: subprocess.Popen) -> dict:
    output, errors = worker.communicate(timeout=180)  # a loaded machine starts Django slowly
    lines = output.strip().splitlines()
    assert lines, f"the worker printed no report (exit {worker.returncode}): {errors[-3000:]}"
    return json.loads(lines[-1])


def _texts(count: int, first: int = 0) -> list[Send]:
    # Numbers ending in 7: none of the fake's answers by suffix (0000 STOP, 2222 rate limited, ...).
    users = [recipient(phone=f"+447700{index:05d}7", purpose="transactional") for index in range(first, first + count)]
    return [notify(user)[0] for user in users]


def test_two_workers_share_the_rate_limit_and_never_go_over_it(committed, twilio):
    sends = _texts(60)
    # Twilio queues a short burst; over it, the fake refuses and counts the excess.
    twilio.realism = Realism(latency_ms=30, p99_ms=120, rate_limit=20, burst_seconds=0.5)
    limits = {"NOTIFICATIONS_RATE_LIMITS": "twilio:sms=20/s", "NOTIFICATIONS_BATCH_SIZE": "20"}

    started = time.monotonic()
    workers = [_worker(twilio, **limits) for _ in range(2)]
    reports = [_report(worker) for worker in workers]
    elapsed = time.monotonic() - started

    stats = twilio.realism.stats()
    assert stats["excess"] == 0, stats  # the fake refused nothing: together they never went over
    assert stats["requests"] == 60 and stats["peak_full_second"] <= 22, stats
    assert {s.state for s in Send.objects.filter(pk__in=[s.pk for s in sends])} == {"sent"}
    assert all(report["sent"] >= 5 for report in reports), reports  # both workers took part
    assert elapsed >= 2.5  # 60 texts at 20/s, less the burst


def test_a_retry_after_seen_by_one_worker_pauses_the_other(committed, twilio):
    sends = _texts(40)
    paused = sends[12].user.phone
    twilio.script(paused, status=429, code=20429, retry_after=2)
    twilio.realism = Realism(latency_ms=20, p99_ms=80)
    limits = {"NOTIFICATIONS_RATE_LIMITS": "twilio:sms=15/s", "NOTIFICATIONS_BATCH_SIZE": "8"}

    workers = [_worker(twilio, **limits) for _ in range(2)]
    reports = [_report(worker) for worker in workers]

    arrivals = sorted(r.at for r in twilio.requests if r.method == "POST")
    refused = next(r.at for r in twilio.requests if r.form.get("To") == paused)
    # Requests already on their way when the answer came may still arrive; after that, silence
    # from both workers until Retry-After has passed.
    during = [at for at in arrivals if refused + 0.3 < at < refused + 1.9]
    assert during == [], [round(at - refused, 2) for at in arrivals]
    assert [at for at in arrivals if at >= refused + 1.9]  # and they resumed
    assert sorted(report["retried"] for report in reports) == [0, 1]
    assert all(report["sent"] >= 3 for report in reports), reports
    # The refused text is retried no sooner than asked: still queued, or sent by a worker that was
    # still running once its time came (which of the two depends on when the workers' runs end).
    retried = [r.at for r in twilio.requests if r.method == "POST" and r.form.get("To") == paused][1:]
    state = Send.objects.get(pk=sends[12].pk).state
    assert (state, len(retried)) in (("queued", 0), ("sent", 1)), (state, retried)
    assert all(at >= refused + 1.9 for at in retried), [round(at - refused, 2) for at in retried]
    sent = Send.objects.filter(pk__in=[s.pk for s in sends], state="sent").count()
    assert sent == 39 + (state == "sent")


def test_a_worker_killed_with_many_texts_in_flight_loses_none_and_sends_none_twice(committed, twilio):
    sends = _texts(150)
    twilio.realism = Realism(latency_ms=200, p99_ms=400)
    concurrency = 40
    worker = _worker(
        twilio,
        NOTIFICATIONS_SEND_CONCURRENCY=str(concurrency),
        NOTIFICATIONS_LEASE_SECONDS="4",
        NOTIFICATIONS_BATCH_SIZE="100",
    )
    deadline = time.monotonic() + 30
    while len(twilio.messages_posted()) < 30 and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(worker.pid, signal.SIGKILL)  # mid-batch: dozens of requests out, answers uncommitted
    worker.wait()
    time.sleep(0.5)  # the requests it had out still arrive at the fake
    before = [m["To"] for m in twilio.messages_posted()]
    assert 30 <= len(before) < 150

    time.sleep(4)  # the dead worker's claim lapses
    twilio.reset()
    report = dispatcher.dispatch(budget_seconds=30)

    after = [m["To"] for m in twilio.messages_posted()]
    rows = dict(Send.objects.filter(pk__in=[s.pk for s in sends]).values_list("user__phone", "state"))
    assert set(rows.values()) <= {"sent", "unknown"}, rows  # nothing lost, nothing left pending
    assert report["reaped"] >= 30
    assert len(set(before)) == len(before) and not set(before) & set(after)  # no text went out twice
    unknown = {phone for phone, state in rows.items() if state == "unknown"}
    # Unknown: at most what was in flight when it died, and never sent again.
    assert 0 < len(unknown) <= concurrency and not unknown & set(after)
    assert {phone for phone, state in rows.items() if state == "sent"} == set(after) | (set(before) - unknown)


def test_consent_withdrawn_while_a_send_waits_for_its_rate_limit_stops_it(committed, twilio, settings):
    settings.NOTIFICATIONS_RATE_LIMITS = {"twilio:sms": "4/s"}
    sends = _texts(8)
    last = sends[-1]
    works = load(claim(10))  # claimed: queued under this worker's lease

    def withdraw():  # another process records the opt-out once the first texts went out
        while len(twilio.messages_posted()) < 2:
            time.sleep(0.01)
        services.consent_record(
            user_id=last.user_id,
            channel="sms",
            purpose="transactional",
            granted=False,
            source="admin",
            actor="system:tests",
        )
        connection.close()

    thread = threading.Thread(target=withdraw)
    thread.start()
    report = dispatcher.Report()
    pipeline = Pipeline(report, time.monotonic() + 20, 10)
    pipeline.enqueue(works)
    pipeline.run()
    thread.join()

    last.refresh_from_db()
    assert last.state == "opted_out" and last.in_flight_since is None
    assert last.user.phone not in {m["To"] for m in twilio.messages_posted()}
    assert report.sent == 7
