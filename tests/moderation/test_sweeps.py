"""Sweeps: each rule opens a case over its threshold and none below it, once per subject, rule and day."""

import datetime as dt
from unittest import mock

import pytest
from django.test import Client
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from moderation import tasks
from moderation.models import Case, SweepRule
from moderation.sweeps import sweeps_run
from samia.audit.models import AuditEntry
from samia.marketplace import services as marketplace_services
from tests import factories
from tests.conftest import api_as
from tests.factories import PASSWORD
from tests.moderation.conftest import identity

pytestmark = pytest.mark.django_db

TODAY = dt.datetime.now(dt.UTC).date().isoformat()


def _found(cases):
    return sorted((case.details["rule"], case.subject_id, case.scope) for case in cases)


def _set(rule, **fields):
    SweepRule.objects.filter(rule=rule).update(**fields)


def _orders(client, count, **fields):
    return [factories.OrderFactory(client=client, **fields) for _ in range(count)]


def _calls(reader, *statuses):
    return [
        factories.CallFactory(order=factories.OrderFactory(reader=reader, status="assigned"), reader=reader, status=s)
        for s in statuses
    ]


def _fallbacks(count, *, provider="stripe", country="SA"):
    """`count` payments on `provider` that failed and were replaced by a square payment (attempt 2)."""
    for _ in range(count):
        failed = factories.PaymentFactory(provider=provider, country=country, status="failed")
        factories.PaymentFactory(
            order=failed.order, attempt=2, provider="square", country=country, fallback_of=failed, status="succeeded"
        )


# --- each rule, at and below its threshold ----------------------------------------------------------------------------


def test_it_finds_a_reader_whose_rejections_outnumber_the_threshold_counting_resubmitted_ones(personas):
    # given a reader whose order was rejected twice, resubmitted each time and finally approved
    _set("reject_rate", min_count=3, max_rate="0.5000")
    monitor, reader = identity(personas["monitor"]), identity(personas["reader"])
    order = factories.OrderFactory(client=personas["client"], reader=personas["reader"], status="awaiting_approval")
    for action, actor in [("reject", monitor), ("submit", reader), ("reject", monitor), ("submit", reader)]:
        marketplace_services.order_transition(identity=actor, order_id=order.pk, action=action, reason="r")
    marketplace_services.order_transition(identity=monitor, order_id=order.pk, action="approve")
    # and another reader with one rejection in three decisions
    other = personas["other_reader"]
    for action in ["reject", "approve", "approve"]:
        decided = factories.OrderFactory(reader=other, status="awaiting_approval")
        marketplace_services.order_transition(identity=monitor, order_id=decided.pk, action=action, reason="r")

    cases = sweeps_run()

    # then only the first reader is found: 2 rejections in 3 decisions, although the order ended approved
    assert _found(cases) == [("reject_rate", personas["reader"].pk, "")]
    case = cases[0]
    assert (case.source, case.status, case.priority, case.reason.code) == ("sweep", "open", "medium", "fraud")
    assert case.details == {"rule": "reject_rate", "rejected": 2, "decisions": 3, "rate": 0.6667}
    assert case.dedupe_key == f"reject_rate:{personas['reader'].pk}:{TODAY}"
    assert case.sla_due_at == case.opened_at + dt.timedelta(hours=24)


def test_it_finds_refund_loops_per_client_at_the_threshold(personas):
    looping, other = personas["client"], personas["other_client"]
    for order in _orders(looping, 3):
        factories.PaymentFactory(order=order, status="refunded")
    for order in _orders(other, 2):
        factories.PaymentFactory(order=order, status="refunded")
    factories.PaymentFactory(order=_orders(other, 1)[0], status="succeeded")

    cases = sweeps_run()

    assert _found(cases) == [("refund_loop", looping.pk, "")]
    assert (cases[0].priority, cases[0].reason.code, cases[0].details["refunds"]) == ("high", "payment_abuse", 3)


def test_it_finds_readers_who_drop_too_many_calls(personas):
    dropping, steady = personas["reader"], personas["other_reader"]
    _calls(dropping, *["dropped"] * 4, *["ended"] * 5, "answered", "failed", "scheduled")
    _calls(steady, *["dropped"] * 3, *["ended"] * 7, "failed", "failed")

    cases = sweeps_run()

    # 4 of 10 connected calls dropped (0.4 > 0.3); 3 of 10 is not above the threshold
    assert _found(cases) == [("call_drops", dropping.pk, "")]
    assert cases[0].details == {"rule": "call_drops", "dropped": 4, "calls": 10, "rate": 0.4}
    assert cases[0].reason.code == "call_abuse"


def test_it_finds_payment_fallback_spikes_per_provider_and_country_without_a_subject(personas):
    _fallbacks(5, provider="stripe", country="SA")
    _fallbacks(4, provider="stripe", country="AE")
    for _ in range(5):
        factories.PaymentFactory(provider="stripe", country="SA", status="succeeded")

    cases = sweeps_run()

    # stripe/SA: 5 fallbacks in 10 attempts (0.5 > 0.2); stripe/AE: 4 fallbacks, under the 5 needed
    assert _found(cases) == [("payment_fallback", None, "provider:stripe:SA")]
    case = cases[0]
    assert case.details == {"rule": "payment_fallback", "fallbacks": 5, "attempts": 10, "rate": 0.5}
    assert case.dedupe_key == f"payment_fallback:provider:stripe:SA:{TODAY}"
    assert (case.priority, case.reason.code) == ("high", "payment_abuse")
    # and the queue shows it to staff like any other case
    body = api_as(personas["monitor"]).get("/monitor/cases?source=sweep").json()
    assert [(c["id"], c["subject_id"], c["scope"]) for c in body["results"]] == [(case.pk, None, "provider:stripe:SA")]


def test_it_finds_bulk_orders_per_client_in_the_last_hours(personas):
    spammer, other = personas["client"], personas["other_client"]
    _orders(spammer, 10)
    _orders(other, 9)
    old = _orders(other, 3)
    factories.Order.objects.filter(pk__in=[o.pk for o in old]).update(created_at=timezone.now() - dt.timedelta(hours=2))

    cases = sweeps_run()

    assert _found(cases) == [("spam_orders", spammer.pk, "")]
    assert (cases[0].priority, cases[0].reason.code, cases[0].details["orders"]) == ("low", "spam", 10)


def test_a_case_that_is_neither_about_a_user_nor_a_scope_is_refused(personas):
    from django.db import IntegrityError

    case = Case(reason_id=SweepRule.objects.get(rule="spam_orders").reason_id, priority="low")
    case.sla_due_at = case.due_at(case.opened_at, "low")

    with pytest.raises(IntegrityError, match="case_subject_or_scope"):
        case.save()


# --- dedupe, thresholds, audit ----------------------------------------------------------------------------------------


def test_a_rerun_the_same_day_creates_nothing_new_and_the_next_day_does(personas):
    _orders(personas["client"], 10)
    _fallbacks(5)

    first = sweeps_run()
    again = sweeps_run()
    tomorrow = sweeps_run(day=timezone.now().date() + dt.timedelta(days=1))

    assert len(first) == 2 and again == [] and len(tomorrow) == 2
    assert Case.objects.filter(source="sweep").count() == 4
    opened = AuditEntry.objects.filter(action="moderation.case.open").order_by("id")
    assert [(e.actor_id, e.actor_role, e.target_id) for e in opened] == [
        (None, "system:sweeps", str(c.pk)) for c in first + tomorrow
    ]
    assert opened[0].details == {  # rules run in name order: payment_fallback first
        "source": "sweep",
        "reason": "payment_abuse",
        "subject_id": None,
        "scope": "provider:stripe:SA",
        "rule": "payment_fallback",
        "fallbacks": 5,
        "attempts": 5,
        "rate": "1.0000",
    }


def test_edited_thresholds_take_effect_and_inactive_rules_do_not_run(personas):
    _orders(personas["client"], 6)
    assert sweeps_run() == []

    _set("spam_orders", min_count=6)
    _set("payment_fallback", is_active=False)
    _fallbacks(5)

    assert _found(sweeps_run()) == [("spam_orders", personas["client"].pk, "")]


def test_a_sweep_for_a_past_day_looks_back_from_the_end_of_that_day(personas):
    # two days back, not yesterday: run just after midnight UTC, today's sweep looks back from now into
    # yesterday's last hour
    past = timezone.now().date() - dt.timedelta(days=2)
    orders = _orders(personas["client"], 10)
    late_that_day = dt.datetime.combine(past, dt.time(23, 30), tzinfo=dt.UTC)
    factories.Order.objects.filter(pk__in=[o.pk for o in orders]).update(created_at=late_that_day)

    assert _found(sweeps_run(day=past)) == [("spam_orders", personas["client"].pk, "")]
    assert sweeps_run() == []  # today's last hour holds none of them


# --- jobs and back office -----------------------------------------------------------------------------------------------


def test_the_nightly_task_runs_the_sweeps_and_is_scheduled_at_01_30_utc(personas):
    _orders(personas["client"], 10)

    ids = tasks.run_sweeps()

    assert ids == list(Case.objects.filter(source="sweep").values_list("id", flat=True))
    assert len(ids) == 1 and tasks.run_sweeps() == []
    schedule = PeriodicTask.objects.get(name="moderation.run_sweeps")
    assert (schedule.task, schedule.enabled, schedule.crontab.minute, schedule.crontab.hour) == (
        "moderation.run_sweeps",
        True,
        "30",
        "1",
    )
    assert str(schedule.crontab.timezone) == "UTC"


def _logged_in(user) -> Client:
    client = Client()
    assert client.post("/backoffice/login/", {"username": user.email, "password": PASSWORD}).status_code == 302
    return client


def _rule_form(rule: SweepRule, **changes) -> dict:
    form = {
        "rule": rule.rule,
        "is_active": "on",
        "window_hours": rule.window_hours,
        "min_count": rule.min_count,
        "max_rate": rule.max_rate or "",
        "reason": rule.reason_id,
        "severity": rule.severity,
    }
    return {**form, **changes}


@pytest.mark.parametrize(("role", "view", "change"), [("monitor", 200, 403), ("admin", 200, 302)])
def test_admins_edit_thresholds_in_the_back_office_and_monitors_only_view_them(personas, role, view, change):
    rule = SweepRule.objects.get(rule="spam_orders")
    client = _logged_in(personas[role])

    listing = client.get("/backoffice/moderation/sweeprule/")
    response = client.post(f"/backoffice/moderation/sweeprule/{rule.pk}/change/", _rule_form(rule, min_count=3))

    assert (listing.status_code, response.status_code) == (view, change)
    rule.refresh_from_db()
    assert rule.min_count == (3 if change == 302 else 10)


def test_an_admin_runs_the_selected_sweeps_now_in_a_worker_after_the_request_commits(
    personas, django_capture_on_commit_callbacks
):
    rule = SweepRule.objects.get(rule="spam_orders")
    client = _logged_in(personas["admin"])

    with mock.patch.object(tasks.run_sweeps, "delay") as delay, django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/backoffice/moderation/sweeprule/", {"action": "sweeps_run_now", "_selected_action": [rule.pk]}
        )

    assert response.status_code == 302
    delay.assert_called_once_with(rules=["spam_orders"])


def test_a_monitor_cannot_run_the_sweeps_from_the_back_office(personas):
    rule = SweepRule.objects.get(rule="spam_orders")
    client = _logged_in(personas["monitor"])

    with mock.patch.object(tasks.run_sweeps, "delay") as delay:
        response = client.post(
            "/backoffice/moderation/sweeprule/", {"action": "sweeps_run_now", "_selected_action": [rule.pk]}
        )

    # Django answers an action the user may not take by showing the list again, without running it
    assert response.status_code == 200
    delay.assert_not_called()


def test_the_sweep_query_is_one_statement_per_rule(personas, django_assert_max_num_queries):
    _orders(personas["client"], 10)

    # the rules, one statement per rule, one audit entry, the opened case read back, and a savepoint pair
    with django_assert_max_num_queries(1 + 5 + 1 + 1 + 2):
        assert len(sweeps_run()) == 1
