"""Budgets: metering from real rows, alerts at 50/80/100 % once per month and kind, forecasts, degraded modes."""

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from notifications.models import Notification, Send
from samia import degraded
from samia.audit.models import AuditEntry
from sre import budgets, metering
from sre.models import Budget, BudgetAlert
from tests.conftest import api_as

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 12, 10, 12, 0, tzinfo=dt.UTC)  # 9.5 of December's 31 days: forecast = actual x 3.26


def _sent(user, channel: str, count: int, *, purpose: str = "transactional") -> None:
    start = Send.objects.count()
    Send.objects.bulk_create(
        Send(
            user=user,
            channel=channel,
            purpose=purpose,
            kind="test",
            dedupe_key=f"sre-test:{channel}:{start + n}",
            due_at=NOW,
            expires_at=NOW + dt.timedelta(days=1),
            state="sent",
            sent_at=NOW - dt.timedelta(hours=1),
        )
        for n in range(count)
    )


def _translated(chars: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO events_raw (occurred_at, name, version, actor_key, subject_type, properties)"
            " VALUES (%s, 'i18n.batch_translated', 1, '', '', %s::jsonb)",
            [NOW - dt.timedelta(hours=2), f'{{"chars": {chars}, "fields": 1}}'],
        )


def _alerts(metric: str) -> list[tuple[str, int]]:
    return sorted(BudgetAlert.objects.filter(budget__metric=metric).values_list("kind", "threshold"))


@time_machine.travel(NOW, tick=False)
def test_it_alerts_each_threshold_once_for_actual_use_and_for_the_forecast(personas):
    # given an SMS budget of 100 a month and 20 SMS sent so far (forecast 65)
    Budget.objects.filter(metric="sms").update(monthly_limit=100)
    _sent(personas["client"], "sms", 20)
    _sent(personas["client"], "push", 5)

    # when the hourly job runs
    states = {state.metric: state for state in budgets.budgets_evaluate()}

    # then the forecast crossed 50 %, the actual use nothing yet; admins are told, the audit says so
    assert (states["sms"].actual, states["sms"].forecast, states["sms"].percent) == (20, 65, 20)
    assert states["push"].actual == 5
    assert _alerts("sms") == [("forecast", 50)]
    entry = AuditEntry.objects.get(action="sre.budget.alert")
    assert entry.details == {"metric": "sms", "kind": "forecast", "threshold": 50, "percent": 65, "month": "2026-12"}
    told = Notification.objects.filter(kind="sre.budget_alert")
    assert sorted(told.values_list("user_id", flat=True)) == sorted([personas["admin"].pk, personas["superadmin"].pk])
    assert all(n.critical for n in told)

    # when more are sent and the job runs twice
    _sent(personas["client"], "sms", 30)
    budgets.budgets_evaluate()
    budgets.budgets_evaluate()

    # then 50 % actual, and the forecast's 80 and 100 % — each once
    assert _alerts("sms") == [("actual", 50), ("forecast", 50), ("forecast", 80), ("forecast", 100)]
    assert AuditEntry.objects.filter(action="sre.budget.alert").count() == 4


@time_machine.travel(NOW, tick=False)
def test_it_degrades_at_100_percent_and_ends_with_a_raised_limit_or_a_new_month(personas):
    # given SMS and translation budgets that are spent
    Budget.objects.filter(metric="sms").update(monthly_limit=10)
    Budget.objects.filter(metric="translation_chars").update(monthly_limit=1000)
    _sent(personas["client"], "sms", 10)
    _translated(600)
    _translated(400)
    budgets.gate_cache_clear()

    states = {state.metric: state for state in budgets.budgets_evaluate()}

    # then the state says exceeded; marketing SMS wait, transactional SMS and push go; translation pauses
    assert states["sms"].state == "exceeded"
    assert states["translation_chars"].actual == 1000
    assert ("actual", 100) in _alerts("sms")
    assert budgets.send_gate(channel="sms", marketing=True) == "budget_exceeded"
    assert budgets.send_gate(channel="sms", marketing=False) is None
    assert budgets.send_gate(channel="push", marketing=True) is None
    with pytest.raises(degraded.Degraded) as refused:
        degraded.check("translation")
    assert refused.value.details == {"feature": "translation", "reason": "budget_exceeded"}
    degraded.check("ar_upload")  # storage and egress are not spent

    # when an admin raises the limit, the mode ends at once
    Budget.objects.filter(metric__in=["sms", "translation_chars"]).update(monthly_limit=10**6)
    budgets.gate_cache_clear()
    assert budgets.send_gate(channel="sms", marketing=True) is None
    degraded.check("translation")

    # and a new month starts with nothing spent
    Budget.objects.filter(metric="sms").update(monthly_limit=10)
    assert budgets.metric_spent("sms", now=NOW)
    assert not budgets.metric_spent("sms", now=dt.datetime(2027, 1, 1, 0, 5, tzinfo=dt.UTC))


@time_machine.travel(NOW, tick=False)
def test_it_meters_stored_bytes_of_media_not_removed(personas):
    from tests import factories

    factories.MediaAssetFactory(owner=personas["client"], bytes=1000)
    factories.MediaAssetFactory(owner=personas["client"], bytes=500, removed_at=timezone.now())

    states = {state.metric: state for state in budgets.budgets_evaluate()}

    assert states["storage_bytes"].actual == 1000
    assert states["storage_bytes"].forecast == 1000  # a level, not a flow


@pytest.mark.parametrize(("persona", "expected"), [(None, 401), ("client", 403), ("monitor", 403), ("admin", 200)])
def test_it_shows_budgets_to_admins_only(personas, persona, expected):
    response = api_as(personas.get(persona)).get("/admin/budget")

    assert response.status_code == expected
    if expected == 200:
        body = response.json()
        assert [b["metric"] for b in body["budgets"]] == sorted(m for m, *_ in budgets_seeded())
        assert {b["state"] for b in body["budgets"]} == {"ok"}


def budgets_seeded():
    return Budget.objects.values_list("metric")


@time_machine.travel(NOW, tick=False)
def test_translation_answers_503_degraded_while_its_budget_is_spent(personas):
    from i18n.models import FieldPolicy
    from tests import factories

    FieldPolicy.objects.update_or_create(model="marketplace.Horoscope", field="text", defaults={"auto_translate": True})
    horoscope = factories.HoroscopeFactory(sign="aries")
    Budget.objects.filter(metric="translation_chars").update(monthly_limit=1000)
    _translated(1000)
    budgets.budgets_evaluate()
    body = {"model": "marketplace.Horoscope", "field": "text", "ids": [horoscope.pk], "target": "ar"}

    response = api_as(personas["admin"]).post("/admin/i18n/translate", body, format="json")

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "degraded"
    assert response.json()["error"]["details"] == {"feature": "translation", "reason": "budget_exceeded"}


def _url_issued(asset_id: int, size: int, *, actor_id: int, at: dt.datetime) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO events_raw (occurred_at, name, version, actor_id, actor_key, subject_type, properties)"
            " VALUES (%s, 'ar.url_issued', 1, %s, '', '', %s::jsonb)",
            [at, actor_id, f'{{"asset_id": {asset_id}, "bytes": {size}}}'],
        )


def test_it_counts_an_asset_once_per_caller_and_day_however_often_its_link_is_asked_for(personas):
    # given a reader asking for the same 50 MB asset's link 40 times in one day, once the next day,
    # and another reader once
    reader, other = personas["reader"].pk, personas["other_reader"].pk
    for minute in range(40):
        _url_issued(7, 50_000_000, actor_id=reader, at=NOW - dt.timedelta(hours=3, minutes=minute))
    _url_issued(7, 50_000_000, actor_id=reader, at=NOW - dt.timedelta(days=1))
    _url_issued(7, 50_000_000, actor_id=other, at=NOW - dt.timedelta(hours=1))
    _url_issued(8, 1_000, actor_id=reader, at=NOW - dt.timedelta(hours=1))

    # when egress is metered, then each (asset, caller, day) counts once
    assert metering.meter("egress_bytes", now=NOW) == 3 * 50_000_000 + 1_000
