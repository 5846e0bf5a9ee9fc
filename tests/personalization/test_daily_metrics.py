"""personalization_daily_metrics: exposures, orders and listen-throughs of exposed users, per variant and reader."""

import datetime as dt

import pytest
from django.utils import timezone

from personalization.models import DailyMetrics, Experiment, RankingLog
from personalization.nightly import daily_metrics_fill, ranking_log_purge
from personalization.services import business_day
from samia.events.services import emit
from samia.rls.registry import Identity
from tests.conftest import api_as, rows_as
from tests.personalization.conftest import delivered

pytestmark = pytest.mark.django_db


def _rows():
    return {
        (row.variant, row.reader_id): (row.exposures, row.orders, row.listen_throughs, row.notification_clicks)
        for row in DailyMetrics.objects.all()
    }


def test_it_counts_what_exposed_users_did_after_their_exposure(trained, personas):
    client, readers = personas["client"], trained["readers"]
    experiment = Experiment.objects.create(name="m", salt="s", surface="readers", variants={"model": 1})
    body = {"user_id": client.pk, "surface": "readers", "k": 2}
    shown = api_as(personas["admin"]).post("/personalization/recommend", body, format="json").json()["items"]
    # Delivered just after the exposure, on its business day whatever the hour (an hour earlier would be
    # the day before between 21:00 and 22:00 UTC, midnight in Riyadh).
    order = delivered(client, readers[1], trained["services"][0], 0)
    type(order).objects.filter(pk=order.pk).update(delivered_at=timezone.now())
    for percent in (40, 95):  # one listen-through: the highest percent of the day counts
        emit(
            "horoscope.listened", 2, actor=Identity(client.pk, "client"), properties={"sign": "leo", "percent": percent}
        )
    # a listen of an unexposed client does not count
    emit(
        "horoscope.listened",
        2,
        actor=Identity(trained["group_a"][0].pk, "client"),
        properties={"sign": "leo", "percent": 100},
    )
    today = business_day(timezone.now())

    daily_metrics_fill(first=today - dt.timedelta(days=1), last=today)
    daily_metrics_fill(first=today - dt.timedelta(days=1), last=today)  # a rerun replaces, never adds

    expected = {("model", None): (1, 1, 1, 0)}
    for item in shown:
        reader_id = int(item.split(":")[1])
        expected[("model", reader_id)] = (1, 1 if reader_id == readers[1].pk else 0, 0, 0)
    expected.setdefault(("model", readers[1].pk), (0, 1, 0, 0))
    assert _rows() == expected
    assert set(DailyMetrics.objects.values_list("experiment_id", "day").distinct()) == {(experiment.pk, today)}


def test_it_purges_the_ranking_log_past_its_retention(personas, settings):
    settings.PERSONALIZATION_LOG_RETENTION_DAYS = 90
    old, recent = (timezone.now() - dt.timedelta(days=d) for d in (91, 89))
    for created_at in (old, recent):
        RankingLog.objects.create(
            created_at=created_at,
            user_id=1,
            surface="readers",
            reason="no_model",
            items=[],
            confidences=[],
            rationales=[],
        )

    assert ranking_log_purge() == 1
    assert list(RankingLog.objects.values_list("created_at", flat=True)) == [recent]


@pytest.mark.parametrize("persona", ["client", "reader", "other_reader", "monitor", "admin", "superadmin"])
def test_it_lists_exactly_the_metrics_rows_postgres_shows(personas, persona):
    day = dt.date(2026, 11, 2)
    for reader_id in (personas["reader"].pk, personas["other_reader"].pk, None):
        DailyMetrics.objects.create(day=day, experiment_id=1, variant="model", reader_id=reader_id, orders=2)
    user = personas[persona]

    answer = api_as(user).get("/personalization/metrics?from=2026-11-01&to=2026-11-30&page_size=2")
    api_ids = []
    while answer.status_code == 200:
        api_ids += [row["id"] for row in answer.json()["results"]]
        if not answer.json()["next"]:
            break
        answer = api_as(user).get(answer.json()["next"])
    db_ids = [r[0] for r in rows_as(Identity(user.pk, user.role), "SELECT id FROM personalization_daily_metrics")]

    assert sorted(api_ids) == sorted(db_ids)
    assert answer.status_code == (403 if persona in ("client", "monitor") else 200)
