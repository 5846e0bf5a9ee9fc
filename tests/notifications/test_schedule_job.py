"""A schedule too large for a web request is queued as a job (NOTIFICATIONS_SCHEDULE_JOB_USERS): the API.

The API answers 202; the job plans the campaign bound as the admin who asked, whose rights are read
again when it runs, from an order the request signed. Requests do not wait for a schedule that runs:
409 at once. One test goes through the broker and a real worker process, from a request that
commits. The back office's side: test_schedule_job_backoffice.py.
"""

import datetime as dt
import time

import pytest
import time_machine
from celery.exceptions import Retry
from django.core import signing

from notifications import ranges, schedule_requests, tasks
from notifications.models import Campaign, Send
from samia.audit.models import AuditEntry
from samia.redis import get_redis, key
from samia.rls.binding import current_identity
from tests import factories
from tests.conftest import api_as
from tests.jobs.worker import celery_worker
from tests.notifications.schedule_helpers import denied, draft, order_of, run_job

pytestmark = pytest.mark.django_db


def test_the_api_queues_a_large_schedule_and_the_job_plans_it_as_the_admin(personas, queued, published):
    admin = personas["admin"]
    campaign_id = draft(admin)

    answer = api_as(admin).post(f"/admin/campaigns/{campaign_id}/schedule")

    # the request checked and queued, planned nothing
    assert answer.status_code == 202, answer.json()
    body = answer.json()
    assert (body["queued"], body["created"], body["campaign"]["status"]) == (True, None, "draft")
    assert not Send.objects.filter(campaign_id=campaign_id).exists()
    (order,) = published
    assert order_of(order) == (campaign_id, admin.pk)
    assert AuditEntry.objects.filter(action="notifications.campaign.schedule_queued", actor_id=admin.pk).count() == 1

    # when the job runs
    outcome = tasks.schedule_campaign.run(order)

    assert outcome == {"campaign": campaign_id, "created": 2, "planned": 2}
    assert Campaign.objects.get(pk=campaign_id).status == "scheduled"
    assert Send.objects.filter(campaign_id=campaign_id).count() == 2
    entry = AuditEntry.objects.get(action="notifications.campaign.schedule")
    assert (entry.actor_id, entry.actor_role, entry.outcome) == (admin.pk, "admin", "success")
    # the job's entry is found under the request that asked for it
    queued_entry = AuditEntry.objects.get(action="notifications.campaign.schedule_queued")
    assert entry.request_id == queued_entry.request_id == answer["X-Request-ID"]
    # a second request meanwhile, run after the first: nothing more
    assert run_job(campaign_id, admin.pk)["created"] == 0


def test_the_job_acts_for_whoever_asked_not_for_the_campaigns_author(personas, queued, published):
    author, other = personas["admin"], factories.UserFactory(role="superadmin")
    campaign_id = draft(author)

    assert api_as(other).post(f"/admin/campaigns/{campaign_id}/schedule").status_code == 202
    (order,) = published
    assert order_of(order) == (campaign_id, other.pk)
    tasks.schedule_campaign.run(order)

    entry = AuditEntry.objects.get(action="notifications.campaign.schedule")
    assert (entry.actor_id, entry.actor_role) == (other.pk, "superadmin")


def test_the_order_is_hidden_from_celerys_logs(personas, queued, monkeypatch):
    sent = []
    monkeypatch.setattr(tasks.schedule_campaign, "apply_async", lambda args, **options: sent.append((args, options)))
    admin = personas["admin"]
    campaign_id = draft(admin)

    assert api_as(admin).post(f"/admin/campaigns/{campaign_id}/schedule").status_code == 202

    ((args, options),) = sent
    assert order_of(args[0]) == (campaign_id, admin.pk)
    assert options == {"argsrepr": schedule_requests.ORDER_SHOWN_AS}  # what logs and monitors show
    assert "signed schedule order" in options["argsrepr"] and args[0] not in options["argsrepr"]


def test_with_the_broker_down_the_request_is_refused_and_leaves_nothing(personas, queued, monkeypatch):
    from kombu.exceptions import OperationalError

    def down(args, **options):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.schedule_campaign, "apply_async", down)
    admin = personas["admin"]
    campaign_id = draft(admin)

    answer = api_as(admin).post(f"/admin/campaigns/{campaign_id}/schedule")

    assert answer.status_code == 503, answer.json()
    assert answer.json()["error"]["code"] == "unavailable"
    assert not AuditEntry.objects.filter(action="notifications.campaign.schedule_queued").exists()
    assert not schedule_requests.queued_for(campaign_id, admin.pk)  # the next request queues afresh


def test_the_job_plans_under_rls_as_the_admin_not_as_the_owner(personas, queued, monkeypatch):
    admin = personas["admin"]
    campaign_id = draft(admin)
    seen = []
    plan = ranges.plan_range

    def recording(cursor, *args, **kwargs):
        seen.append(current_identity())
        return plan(cursor, *args, **kwargs)

    monkeypatch.setattr(ranges, "plan_range", recording)

    assert run_job(campaign_id, admin.pk)["created"] == 2
    assert seen == [("samia_app", str(admin.pk), "admin")]


def test_below_the_threshold_the_api_plans_in_the_request(personas, settings, published):
    settings.NOTIFICATIONS_SCHEDULE_JOB_USERS = 10**9
    campaign_id = draft(personas["admin"])

    answer = api_as(personas["admin"]).post(f"/admin/campaigns/{campaign_id}/schedule")

    assert answer.status_code == 200
    assert (answer.json()["queued"], answer.json()["created"]) == (False, 2)
    assert published == []


@pytest.mark.parametrize("status", ["paused", "completed"])
def test_a_campaign_that_cannot_be_scheduled_is_refused_before_anything_is_queued(personas, queued, status, published):
    campaign_id = draft(personas["admin"])
    Campaign.objects.filter(pk=campaign_id).update(status=status)

    answer = api_as(personas["admin"]).post(f"/admin/campaigns/{campaign_id}/schedule")

    assert answer.status_code == 409
    assert answer.json()["error"]["details"]["status"] == status
    assert published == []


@pytest.mark.parametrize("persona", ["client", "reader", "monitor"])
def test_only_admins_may_queue_a_schedule(personas, queued, persona, published):
    campaign_id = draft(personas["admin"])

    answer = api_as(personas[persona]).post(f"/admin/campaigns/{campaign_id}/schedule")

    assert answer.status_code in (403, 404)
    assert published == []


def test_while_a_persons_job_is_queued_their_requests_queue_nothing_more(personas, queued, published):
    admin = personas["admin"]
    campaign_id = draft(admin)
    mark = schedule_requests._queued_mark(campaign_id)

    for _ in range(3):
        assert api_as(admin).post(f"/admin/campaigns/{campaign_id}/schedule").status_code == 202

    assert len(published) == 1
    assert 0 < get_redis().ttl(mark) <= schedule_requests.QUEUED_MARK_SECONDS  # lapses if the job never runs
    # someone else's request still queues theirs (the first may be refused: its requester deactivated)
    api_as(factories.UserFactory(role="admin")).post(f"/admin/campaigns/{campaign_id}/schedule")
    assert len(published) == 2
    tasks.schedule_campaign.run(published[0])  # the job takes its requester out when it ends
    assert not schedule_requests.queued_for(campaign_id, admin.pk)
    assert schedule_requests.being_scheduled(campaign_id)  # the other admin's job is still queued
    api_as(admin).post(f"/admin/campaigns/{campaign_id}/schedule")
    assert len(published) == 3
    for order in published[1:]:
        tasks.schedule_campaign.run(order)
    assert not schedule_requests.being_scheduled(campaign_id)


def test_a_refused_job_clears_its_mark_too(personas, queued, published):
    admin = personas["admin"]
    campaign_id = draft(admin)
    api_as(admin).post(f"/admin/campaigns/{campaign_id}/schedule")
    type(admin).objects.filter(pk=admin.pk).update(is_active=False)

    assert tasks.schedule_campaign.run(published[0])["refused"] == "requester_inactive"

    assert not schedule_requests.queued_for(campaign_id, admin.pk)


def test_one_schedule_runs_at_a_time_and_the_next_waits_its_turn(personas, queued, monkeypatch):
    admin = personas["admin"]
    campaign_id = draft(admin)
    order = schedule_requests.schedule_order(campaign_id, admin.pk)
    running = get_redis().lock(key(schedule_requests.RUNNING_LOCK), timeout=60)
    assert running.acquire(blocking=False)  # another campaign's schedule, on another worker

    try:
        assert schedule_requests.campaign_schedule_job(order) is None
        with pytest.raises(Retry):  # the task asks Celery to run it again later
            tasks.schedule_campaign.run(order)
        assert not Send.objects.filter(campaign_id=campaign_id).exists()
    finally:
        running.release()
    # an hour of turns at most, then it ends (its mark lapses with it)
    assert tasks.schedule_campaign.max_retries * schedule_requests.BUSY_RETRY_SECONDS == 3600

    seen = []
    lock = get_redis().lock

    def watched(name, **options):
        seen.append(options.get("timeout"))
        return lock(name, **options)

    monkeypatch.setattr(get_redis(), "lock", watched)
    assert schedule_requests.campaign_schedule_job(order)["created"] == 2
    assert seen[0] == schedule_requests.RUNNING_LOCK_SECONDS  # a dead holder's lock lapses
    assert get_redis().lock(key(schedule_requests.RUNNING_LOCK)).locked() is False


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"role": "client"}, "not_allowed"),
        ({"role": "monitor"}, "not_allowed"),
        ({"is_active": False}, "requester_inactive"),
        ({"blocked_at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC)}, "requester_inactive"),
    ],
    ids=["demoted-to-client", "demoted-to-monitor", "deactivated", "blocked"],
)
def test_the_job_reads_the_requesters_rights_again_when_it_runs(personas, queued, change, reason):
    admin = personas["admin"]
    campaign_id = draft(admin)
    assert api_as(admin).post(f"/admin/campaigns/{campaign_id}/schedule").status_code == 202
    type(admin).objects.filter(pk=admin.pk).update(**change)

    outcome = run_job(campaign_id, admin.pk)

    assert outcome == {"campaign": campaign_id, "refused": reason}
    assert Campaign.objects.get(pk=campaign_id).status == "draft"
    assert not Send.objects.filter(campaign_id=campaign_id).exists()
    assert denied(campaign_id) == [("system:notifications.schedule_campaign", reason)]


@pytest.mark.parametrize(
    "order",
    [
        lambda c, u: signing.dumps({"campaign": c, "user": u}, salt="another purpose"),
        lambda c, u: signing.dumps(
            {"campaign": c, "user": u}, key="not the server's key", salt=schedule_requests.ORDER_SALT
        ),
        lambda c, u: f'{{"campaign": {c}, "user": {u}}}',
        lambda c, u: [c, u],
        lambda c, u: signing.dumps({"campaign": "x", "user": u}, salt=schedule_requests.ORDER_SALT),
    ],
    ids=["other-salt", "other-key", "plain-json", "a-list", "not-an-id"],
)
def test_a_job_started_with_made_up_arguments_plans_nothing(personas, queued, order):
    # e.g. by a superadmin through beat's back office, naming an admin
    admin = personas["admin"]
    campaign_id = draft(admin)

    outcome = tasks.schedule_campaign.run(order(campaign_id, admin.pk))

    assert outcome == {"campaign": None, "refused": "order_unsigned"}
    assert not Send.objects.filter(campaign_id=campaign_id).exists()
    assert denied(None) == [("system:notifications.schedule_campaign", "order_unsigned")]


def test_an_order_older_than_a_day_plans_nothing(personas, queued):
    admin = personas["admin"]
    campaign_id = draft(admin)
    order = schedule_requests.schedule_order(campaign_id, admin.pk)

    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(hours=25)):
        outcome = tasks.schedule_campaign.run(order)

    assert outcome == {"campaign": None, "refused": "order_expired"}
    assert not Send.objects.filter(campaign_id=campaign_id).exists()


def test_the_job_leaves_a_campaign_paused_meanwhile_as_it_is(personas, queued):
    admin = personas["admin"]
    campaign_id = draft(admin)
    Campaign.objects.filter(pk=campaign_id).update(status="paused")

    outcome = run_job(campaign_id, admin.pk)

    assert outcome == {"campaign": campaign_id, "refused": "conflict"}
    assert not Send.objects.filter(campaign_id=campaign_id).exists()


def test_the_job_for_a_campaign_gone_meanwhile_ends_quietly(personas, queued):
    outcome = run_job(987654321, personas["admin"].pk)

    assert outcome == {"campaign": 987654321, "refused": "DoesNotExist"}


@pytest.mark.parametrize("step", ["schedule", "pause"])
def test_a_request_does_not_wait_for_a_schedule_that_runs(queued, lock_holder, step, published):
    admin = factories.UserFactory(role="admin")
    campaign_id = draft(admin)
    if step == "pause":
        assert api_as(admin).post(f"/admin/campaigns/{campaign_id}/schedule").status_code == 202
        Campaign.objects.filter(pk=campaign_id).update(status="scheduled")
    lock_holder(campaign_id)

    # Refused at once (NOWAIT): were it to wait for the lock, it would wait for this test forever.
    answer = api_as(admin).post(f"/admin/campaigns/{campaign_id}/{step}")

    assert answer.status_code == 409, answer.json()
    assert "right now" in answer.json()["error"]["message"]
    assert not Send.objects.filter(campaign_id=campaign_id).exists()


def test_a_small_schedule_does_not_wait_for_one_that_runs_either(settings, lock_holder):
    settings.NOTIFICATIONS_SCHEDULE_JOB_USERS = 10**9  # planned in the request
    admin = factories.UserFactory(role="admin")
    campaign_id = draft(admin)
    lock_holder(campaign_id)

    answer = api_as(admin).post(f"/admin/campaigns/{campaign_id}/schedule")

    assert answer.status_code == 409, answer.json()
    assert "right now" in answer.json()["error"]["message"]


@pytest.mark.usefixtures("committed")
def test_a_real_worker_plans_the_schedule_a_committed_request_queued(queued, monkeypatch):
    admin = factories.UserFactory(role="admin")
    campaign_id = draft(admin)
    with celery_worker() as queue:
        # The request's order, sent to this test's own queue on the configured broker.
        monkeypatch.setattr(
            schedule_requests, "_publish", lambda order: tasks.schedule_campaign.apply_async((order,), queue=queue)
        )

        answer = api_as(admin).post(f"/admin/campaigns/{campaign_id}/schedule")
        assert answer.status_code == 202, answer.json()
        deadline = time.monotonic() + 60
        while Campaign.objects.get(pk=campaign_id).status != "scheduled" and time.monotonic() < deadline:
            time.sleep(0.2)

    assert Campaign.objects.get(pk=campaign_id).status == "scheduled"
    assert Send.objects.filter(campaign_id=campaign_id).count() == 2
    entry = AuditEntry.objects.get(action="notifications.campaign.schedule", target_id=str(campaign_id))
    assert (entry.actor_id, entry.actor_role) == (admin.pk, "admin")
