"""SRE figures: the limiter's cost per request and on GET /orders, the health overview, a restore drill.

In-process, against the dev database named by DATABASE_URL (seed it first: `make seed`, or
`manage.py seed_demo --scale N`) and the real Redis. Rounds alternate the two configurations on
the same machine, so a loaded machine loads both alike; figures are medians of the rounds.

    DATABASE_URL=... .venv/bin/python bench/sre.py [--requests 400] [--rounds 3] [--calls 5000] [--drill]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.keys import BENCH_KEYS  # noqa: E402

for key, value in BENCH_KEYS.items():
    os.environ.setdefault(key, value)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "samia.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("STAFF_2FA_REQUIRED", "0")
# The limiter does all its work (two windows, the headers) but never refuses a benchmark request.
os.environ.setdefault("SRE_RATE_USER", "100000/second;1000000/minute")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from rest_framework_simplejwt.tokens import RefreshToken  # noqa: E402

from samia.accounts.models import User  # noqa: E402
from samia.redis import get_redis  # noqa: E402
from sre import throttles  # noqa: E402


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def token(user) -> str:
    refresh = RefreshToken.for_user(user)
    refresh["role"] = user.role
    return str(refresh.access_token)


def limiter_latency(calls: int) -> dict:
    """Per-call latency of the limiter (two sliding-window hits and the headers) beside a Redis PING."""
    # The default's two windows (burst and sustained), with limits the loop never reaches.
    with override_settings(SRE_RATE_LIMITS={"default": {"user": "100000/second;1000000/minute", "ip": "1/second"}}):
        rule = throttles.rule_for(method="GET", route="bench-limiter", authenticated=True)
    redis = get_redis()
    pings, counts = [], []
    for n in range(calls):
        started = time.perf_counter()
        redis.ping()
        pings.append(time.perf_counter() - started)
        started = time.perf_counter()
        throttles.count(rule, f"user:bench-{n % 50}")
        counts.append(time.perf_counter() - started)
    ms = 1000
    return {
        "limiter_p50_ms": percentile(counts, 0.5) * ms,
        "limiter_p99_ms": percentile(counts, 0.99) * ms,
        "ping_p50_ms": percentile(pings, 0.5) * ms,
        "ping_p99_ms": percentile(pings, 0.99) * ms,
    }


def orders_throughput(client_user, requests: int, rounds: int) -> dict:
    """GET /orders requests per second with the limiter and without it, alternating rounds."""
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token(client_user)}"}
    generous = {"default": {"user": "1000000/second", "ip": "1000000/second"}}
    figures: dict[str, list[float]] = {"with": [], "without": []}
    for _ in range(rounds):
        for label, classes in (("without", []), ("with", ["sre.throttles.RouteRateThrottle"])):
            framework = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_CLASSES": classes}
            with override_settings(REST_FRAMEWORK=framework, SRE_RATE_LIMITS=generous):
                from rest_framework.settings import api_settings

                api_settings.reload()
                client = Client()
                for _ in range(20):
                    client.get("/orders", **headers)
                started = time.perf_counter()
                for _ in range(requests):
                    assert client.get("/orders", **headers).status_code == 200
                figures[label].append(requests / (time.perf_counter() - started))
    with_limiter, without = statistics.median(figures["with"]), statistics.median(figures["without"])
    return {
        "orders_rps_without": without,
        "orders_rps_with": with_limiter,
        "orders_loss_percent": 100 * (1 - with_limiter / without),
    }


def overview_latency(admin, requests: int) -> dict:
    """GET /admin/health/overview as an admin, beside GET /me (the floor of an admin's request): p50 and p99."""
    client, headers = Client(), {"HTTP_AUTHORIZATION": f"Bearer {token(admin)}"}
    times: dict[str, list[float]] = {"/admin/health/overview": [], "/me": []}
    for _ in range(requests):
        for path, measured in times.items():
            started = time.perf_counter()
            assert client.get(path, **headers).status_code == 200
            measured.append(time.perf_counter() - started)
    overview, floor = times["/admin/health/overview"], times["/me"]
    return {
        "overview_p50_ms": percentile(overview, 0.5) * 1000,
        "overview_p99_ms": percentile(overview, 0.99) * 1000,
        "me_floor_p50_ms": percentile(floor, 0.5) * 1000,
        "me_floor_p99_ms": percentile(floor, 0.99) * 1000,
    }


def drill() -> dict:
    """One snapshot and one restore drill of this database."""
    from sre.backups import backup_snapshot
    from sre.drills import restore_drill

    started = time.perf_counter()
    backup = backup_snapshot()
    snapshot_seconds = time.perf_counter() - started
    result = restore_drill(backup=backup)
    return {
        "snapshot_seconds": snapshot_seconds,
        "dump_bytes": backup.size_bytes,
        "orders": backup.row_counts.get("public.marketplace_order"),
        "drill_seconds": result.duration_seconds,
        "drill_result": result.result,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--drill", action="store_true")
    options = parser.parse_args()
    client_user = User.objects.filter(role="client").order_by("id").first()
    admin = User.objects.filter(role="admin").order_by("id").first()
    if client_user is None or admin is None:
        sys.exit("seed the database first (manage.py seed_demo)")
    figures = {**limiter_latency(options.calls)}
    figures.update(orders_throughput(client_user, options.requests, options.rounds))
    figures.update(overview_latency(admin, options.requests // 2))
    if options.drill:
        figures.update(drill())
    for name, value in figures.items():
        print(f"{name:24} {value:.2f}" if isinstance(value, float) else f"{name:24} {value}")


if __name__ == "__main__":
    main()
