"""M25 personalization: stable rankings, bucketing, opt-out, no text for clients, offline metrics, RLS."""

import datetime as dt
import hashlib
import json
import subprocess
import sys

import pytest
from django.core.management import call_command
from django_celery_beat.models import PeriodicTask

from personalization.evaluation import metrics, popularity_lists, split
from personalization.experiments import bucket, variant_for
from personalization.models import DailyMetrics, Experiment, Exposure, Interaction, RankingLog, TrainedModel
from personalization.nightly import inputs_refresh, train_all
from personalization.selectors import ranked
from samia.audit.models import AuditEntry
from samia.events.models import EventRaw
from samia.rls.registry import Identity
from tests.conftest import api_as, rows_as

pytestmark = pytest.mark.django_db

RECOMMEND = "/personalization/recommend"
METRICS = "/personalization/metrics"

# ---------------------------------------------------------------------------------------------
# Stable rankings

TWO_PROCESS_SCRIPT = """
import json, sys
import numpy as np
from personalization.evaluation import model_lists
from personalization.training import Dataset, Scorer, train
rng = np.random.default_rng(11)
users = rng.integers(1, 400, 6000)
items = [f"reader:{i}" for i in rng.zipf(1.3, 6000) % 120 + 1]
dataset = Dataset.build(users, items, np.ones(6000))
out = {}
for kind in ("bm25", "als"):
    trained = train(kind, dataset)
    scorer = Scorer(kind, trained.arrays)
    out[kind] = [trained.version, model_lists(scorer, dataset.matrix, list(range(0, 300, 7)))]
print(json.dumps(out))
"""


def _lists_in_a_new_process() -> dict:
    done = subprocess.run(
        [sys.executable, "-c", TWO_PROCESS_SCRIPT], capture_output=True, text=True, timeout=300, check=True
    )
    return json.loads(done.stdout)


def test_it_gives_identical_lists_and_versions_in_two_processes():
    first, second = _lists_in_a_new_process(), _lists_in_a_new_process()

    assert first == second
    assert first["bm25"][0] != first["als"][0]
    assert all(len(ranking) == 10 for ranking in first["als"][1])


def test_it_gives_the_same_version_hash_on_a_retrain(trained):
    versions = set(TrainedModel.objects.values_list("version", flat=True))

    inputs_refresh()
    again = train_all()

    assert set(again["models"]) == versions
    assert TrainedModel.objects.count() == 2
    assert {m.sha256[:16] for m in TrainedModel.objects.all()} == {v.split("-")[1] for v in versions}


def test_it_ranks_the_same_list_twice_and_breaks_ties_by_item_id(trained, personas):
    readers = trained["readers"]
    candidates = [f"reader:{r.pk}" for r in reversed(readers)]

    first = ranked(user_id=personas["client"].pk, surface="readers", candidates=candidates, k=4)
    second = ranked(user_id=personas["client"].pk, surface="readers", candidates=list(reversed(candidates)), k=4)

    assert first == second
    assert first.reason == "model"
    # reader 2 shares reader 1's clients; readers 3 and 4 share none: equal zero scores, ordered by id
    assert first.items[1] == f"reader:{readers[1].pk}"
    assert first.items[2:] == [f"reader:{readers[2].pk}", f"reader:{readers[3].pk}"]
    assert first.rationales[1] in (f"similar_to:reader:{readers[0].pk}", "similar_to:service:tarot")
    assert first.rationales[2:] == ["no_signal", "no_signal"]


# ---------------------------------------------------------------------------------------------
# Bucketing


def test_it_buckets_by_sha256_of_salt_and_user_id():
    assert bucket("spring", 42) == int(hashlib.sha256(b"spring:42").hexdigest(), 16) % 10000
    assert bucket("spring", 42) == 1031
    assert bucket("autumn", 42) != bucket("spring", 42)


@pytest.mark.parametrize("weights", [{"popularity": 50, "model": 50}, {"popularity": 30, "model": 70}])
def test_it_splits_100k_users_within_one_percent_of_the_weights(weights):
    counts = {"popularity": 0, "model": 0}
    for user_id in range(1, 100_001):
        counts[variant_for(weights, bucket("m25-split", user_id))] += 1

    total = sum(weights.values())
    for name, weight in weights.items():
        assert abs(counts[name] / 100_000 - weight / total) <= 0.01


def test_it_exposes_a_user_once_per_experiment_and_day(trained, personas):
    experiment = Experiment.objects.create(
        name="readers-a", salt="s1", surface="readers", variants={"popularity": 0, "model": 1}
    )
    body = {"user_id": personas["client"].pk, "surface": "readers", "k": 3}

    answers = [api_as(personas["admin"]).post(RECOMMEND, body, format="json") for _ in range(2)]

    assert [a.status_code for a in answers] == [200, 200]
    assert answers[0].json()["bucket"] == bucket("s1", personas["client"].pk)
    assert Exposure.objects.filter(experiment=experiment).count() == 1
    events = EventRaw.objects.filter(name="personalization.exposed")
    assert [e.properties for e in events] == [
        {"experiment_id": experiment.pk, "variant": "model", "surface": "readers"}
    ]
    assert RankingLog.objects.filter(experiment_id=experiment.pk).count() == 2


# ---------------------------------------------------------------------------------------------
# Opt-out


def test_it_serves_popularity_stores_no_row_and_logs_opted_out(trained, personas):
    client = personas["client"]
    Experiment.objects.create(name="readers-b", salt="s2", surface="readers", variants={"model": 1})

    opted = api_as(client).post("/me/personalization/opt-out")
    inputs_refresh()
    answer = api_as(personas["admin"]).post(RECOMMEND, {"user_id": client.pk, "surface": "readers"}, format="json")

    assert opted.status_code == 201 and opted.json()["opted_out"] is True
    assert api_as(client).get("/me/personalization").json()["opted_out"] is True
    assert [e.details for e in AuditEntry.objects.filter(action="personalization.preference.opt_out")] == [
        {"source": "api"}
    ]
    assert not Interaction.objects.filter(user_id=client.pk).exists()
    assert Interaction.objects.exists()
    readers = trained["readers"]
    assert answer.json() == {
        # the client's own orders are gone: readers 3 and 4 have 7 users, 1 and 2 have 6
        "items": [f"reader:{r.pk}" for r in (readers[2], readers[3], readers[0], readers[1])],
        "model_version": None,
        "bucket": None,
    }
    [log] = RankingLog.objects.filter(user_id=client.pk)
    assert log.reason == "opted_out" and log.rationales[0] == "popular_in:all"
    assert not Exposure.objects.exists()


def test_it_uses_the_history_again_after_opting_in(trained, personas):
    client = personas["client"]
    api_as(client).post("/me/personalization/opt-out")
    api_as(client).post("/me/personalization/opt-in")
    inputs_refresh()

    assert Interaction.objects.filter(user_id=client.pk).exists()
    assert ranked(user_id=client.pk, surface="readers", k=2).reason == "model"
    assert AuditEntry.objects.filter(action="personalization.preference.opt_in").count() == 1


# ---------------------------------------------------------------------------------------------
# No text reaches a client


def _walk(schema: dict, components: dict, path: str, found: list):
    if "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[1]]
    for option in schema.get("allOf", []) + schema.get("oneOf", []):
        _walk(option, components, path, found)
    kind = schema.get("type")
    if kind == "object":
        for name, prop in schema.get("properties", {}).items():
            _walk(prop, components, f"{path}.{name}", found)
    elif kind == "array":
        _walk(schema["items"], components, f"{path}[]", found)
    elif kind == "string" and not (
        "pattern" in schema or "enum" in schema or schema.get("format") in ("date", "date-time", "uri")
    ):
        found.append(path)


ROUTES = [
    ("/me/personalization", "get", "200"),
    ("/me/personalization/opt-out", "post", "201"),
    ("/me/personalization/opt-in", "post", "201"),
    ("/personalization/recommend", "post", "200"),
    ("/personalization/metrics", "get", "200"),
]


def test_it_answers_only_ids_codes_numbers_and_dates(personas):
    schema = api_as(personas["admin"]).get("/api/schema/?format=json").json()
    components = schema["components"]["schemas"]
    free_text = []
    for route, method, code in ROUTES:
        body = schema["paths"][route][method]["responses"][code]["content"]["application/json"]["schema"]
        _walk(body, components, f"{method.upper()} {route}", free_text)

    assert free_text == []


@pytest.mark.parametrize(
    ("persona", "recommend", "metrics"),
    [
        (None, 401, 401),
        ("client", 403, 403),
        ("reader", 403, 200),
        ("monitor", 403, 403),
        ("admin", 200, 200),
        ("superadmin", 200, 200),
    ],
)
def test_it_admits_exactly_the_declared_roles(trained, personas, persona, recommend, metrics):
    user = personas[persona] if persona else None
    body = {"user_id": personas["client"].pk, "surface": "services", "k": 2}

    answer = api_as(user).post(RECOMMEND, body, format="json")

    assert answer.status_code == recommend
    assert RankingLog.objects.count() == (1 if recommend == 200 else 0)
    assert api_as(user).get(METRICS).status_code == metrics


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"user_id": 999_999_999, "surface": "readers"}, 404, None),
        ({"user_id": "me", "surface": "readers"}, 400, "user_id"),
        ({"surface": "feed"}, 400, "surface"),
        ({"k": 0}, 400, "k"),
        ({"k": 51}, 400, "k"),
        ({"candidates": ["reader:1"] * 501}, 400, "candidates"),
        ({"candidates": ["service:tarot"]}, 400, "candidates"),
        ({"candidates": ["reader:<b>hi</b>"]}, 400, "candidates"),
    ],
)
def test_it_refuses_bad_input(personas, body, status, field):
    answer = api_as(personas["admin"]).post(
        RECOMMEND, {"user_id": personas["client"].pk, "surface": "readers", **body}, format="json"
    )

    assert answer.status_code == status
    if field:
        assert field in answer.json()["error"]["details"]
    assert not RankingLog.objects.exists()


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("to=0001-01-01", "to"),
        ("from=0001-01-01", "from"),
        ("to=9999-12-31", "to"),
        ("from=2026-11-10&to=2026-11-01", "to"),
        ("to=yesterday", "to"),
    ],
)
def test_it_refuses_bad_metrics_days(personas, query, field):
    answer = api_as(personas["admin"]).get(f"{METRICS}?{query}")

    assert answer.status_code == 400
    assert field in answer.json()["error"]["details"]


def test_it_ranks_by_popularity_without_a_trained_model(catalogue, personas):
    inputs_refresh()
    answer = api_as(personas["admin"]).post(
        RECOMMEND, {"user_id": personas["client"].pk, "surface": "services"}, format="json"
    )

    assert answer.status_code == 200
    # tarot: 7 users, coffee: 7 users; equal, so by code
    assert answer.json() == {"items": ["service:coffee", "service:tarot"], "model_version": None, "bucket": None}
    assert RankingLog.objects.get().reason == "no_model"


# ---------------------------------------------------------------------------------------------
# Offline metrics on a hand-built 6 x 6 matrix

TRAIN = {1: [1, 2], 2: [1, 3], 3: [1, 2, 4], 4: [2, 5], 5: [3], 6: [1, 6]}  # user -> readers before the split
TEST = {1: [3], 2: [4, 6], 3: [1], 4: [6], 5: [5]}  # after it; user 3's reader 1 is a repeat


def _six_by_six():
    rows = [(u, i, dt.date(2026, 1, 1)) for u, items in TRAIN.items() for i in items]
    rows += [(u, i, dt.date(2026, 1, 20)) for u, items in TEST.items() for i in items]
    users, items, days = zip(*rows, strict=True)
    train, test = split(users, [f"reader:{i}" for i in items], list(days), [1] * len(rows), dt.date(2026, 1, 10))
    rows_ = sorted(test)
    return train, test, dict(zip(rows_, popularity_lists(train.matrix, rows_), strict=True))


def test_it_computes_offline_metrics_by_hand():
    train, test, lists = _six_by_six()

    # popularity (distinct train users): r1 4, r2 3, r3 2, r4 1, r5 1, r6 1; test users 1, 2, 4, 5
    assert {train.users[r]: sorted(c + 1 for c in items) for r, items in test.items()} == {
        1: [3],
        2: [4, 6],
        4: [6],
        5: [5],
    }
    assert lists[0][:4] == [2, 3, 4, 5]  # user 1 without r1, r2: r3 r4 r5 r6 (columns)
    # NDCG@10: user 1 hits at 1 -> 1; user 2 at 2 and 4 -> (1/log2 3 + 1/log2 5) / (1 + 1/log2 3)
    # = 1.0616064 / 1.6309298 = 0.6509215; users 4 and 5 at 4 -> 1/log2 5 = 0.4306766 each.
    found = metrics(lists, test, catalogue=6)
    assert found["ndcg_at_10"] == pytest.approx((1 + 0.6509215 + 0.4306766 * 2) / 4, abs=1e-6)
    assert found["hr_at_10"] == 1.0
    assert found["coverage"] == 1.0
    # @3: user 1 [r3 r4 r5] hit at 1; user 2 [r2 r4 r5] hit at 2 -> 0.6309298 / 1.6309298 = 0.3868528;
    # user 4 [r1 r3 r4] and user 5 [r1 r2 r4] miss. Shown: r1..r5 of 6.
    at_3 = metrics(lists, test, catalogue=6, k=3)
    assert at_3["ndcg_at_10"] == pytest.approx((1 + 0.3868528) / 4, abs=1e-6)
    assert at_3["hr_at_10"] == 0.5
    assert at_3["coverage"] == pytest.approx(5 / 6)


# ---------------------------------------------------------------------------------------------
# RLS and metrics


def test_it_shows_a_reader_only_their_own_metrics_rows(personas):
    reader, other = personas["reader"], personas["other_reader"]
    day = dt.date(2026, 11, 2)
    for reader_id in (reader.pk, other.pk, None):
        DailyMetrics.objects.create(day=day, experiment_id=1, variant="model", reader_id=reader_id, exposures=1)

    seen = rows_as(Identity(reader.pk, "reader"), "SELECT reader_id FROM personalization_daily_metrics")
    api = api_as(reader).get(f"{METRICS}?from=2026-11-01&to=2026-11-03").json()
    admin = api_as(personas["admin"]).get(f"{METRICS}?from=2026-11-01&to=2026-11-03").json()

    assert seen == [(reader.pk,)]
    assert [row["reader_id"] for row in api["results"]] == [reader.pk]
    assert api["offline"] == []
    assert sorted(row["reader_id"] or 0 for row in admin["results"]) == sorted([0, reader.pk, other.pk])
    call_command("rls_check")


def test_it_stores_evaluations_and_shows_them_to_admins(trained, personas):
    today = dt.date.today().isoformat()

    answer = api_as(personas["admin"]).get(f"{METRICS}?to={today}").json()

    assert sorted(e["kind"] for e in answer["offline"]) == ["als", "bm25"]
    assert all(0 <= e["ndcg_at_10"] <= 1 and e["model_version"] for e in answer["offline"])


def test_it_installs_the_nightly_schedule():
    task = PeriodicTask.objects.get(name="personalization.train_nightly")

    assert task.task == "personalization.train_nightly" and task.enabled
