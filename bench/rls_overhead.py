"""What row-level security costs on GET /orders, through the real stack.

Seeds a benchmark database with seed_demo (>= 200k orders), starts two gunicorn servers
(4 workers each) on loopback: one as shipped (logged in as samia_web, every request SET LOCAL
ROLE samia_app with its identity and the identity's proof, which samia.actor_id() verifies), one
with the same views bound as the service role (logged in as the owner). wrk loads each in turn,
as a client and as an admin, on a page of 50, in ABBA pairs: pair i runs RLS then service role
when i is even and the reverse when it is odd, so a drift of the shared machine's load (other
work starts or stops) falls on both sides alike. Each pair gives one ratio (RLS requests/s over
service-role requests/s); the figure is the median of at least 12 pairs and their spread
(min, quartiles, max), never one ratio of two medians. Also prints p50/p99 and EXPLAIN plans.

    .venv/bin/python bench/rls_overhead.py [--scale 400] [--seconds 5] [--pairs 12]

BENCH_DATABASE names its database (default samia_bench).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.keys import BENCH_KEYS  # noqa: E402  (the project root is on the path now)

PYTHON = sys.executable
DATABASE = os.environ.get("BENCH_DATABASE", "samia_bench")
DATABASE_URL = f"postgres://root@127.0.0.1:5432/{DATABASE}"
SECRET_KEY = BENCH_KEYS["SECRET_KEY"]
ENV = {
    **os.environ,
    **BENCH_KEYS,
    "DATABASE_URL": DATABASE_URL,
    "DEBUG": "0",
    "LOG_LEVEL": "WARNING",
    "PYTHONPATH": str(ROOT),
    # The SRE route limiter (20/s per user by default) would answer most of wrk's requests 429: it
    # stays on, counting in Redis on both servers alike, with limits no run reaches.
    "SRE_RATE_USER": "1000000/second;100000000/minute",
    "SRE_RATE_IP": "1000000/second;100000000/minute",
}
SERVERS = {"rls": ("samia.settings", 8101), "service_role": ("bench.settings_service_role", 8102)}


def run(*args, env=None, **kwargs):
    return subprocess.run(args, cwd=ROOT, env=env or ENV, check=True, text=True, **kwargs)


def manage(*args, capture=False):
    result = run(PYTHON, "manage.py", *args, capture_output=capture)
    return result.stdout if capture else None


def prepare(scale: int) -> None:
    exists = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-tAc", f"SELECT 1 FROM pg_database WHERE datname='{DATABASE}'"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    if exists != "1":
        run("createdb", "-h", "127.0.0.1", "-U", "postgres", "-O", "root", DATABASE)
    manage("migrate", "--noinput", "-v0")
    started = time.perf_counter()
    manage("seed_demo", "--scale", str(scale), "--seed", "42")
    print(f"seed_demo --scale {scale}: {time.perf_counter() - started:.1f} s")
    run("psql", "-h", "127.0.0.1", "-U", "root", DATABASE, "-qc", "VACUUM ANALYZE")


SHELL_SNIPPET = """
import json
from django.db.models import Count
from rest_framework_simplejwt.tokens import RefreshToken
from samia.accounts.models import User
from samia.marketplace.models import Order

def token(user):
    refresh = RefreshToken.for_user(user)
    refresh["role"] = user.role
    return str(refresh.access_token)

counts = Order.objects.values("client_id").annotate(n=Count("id")).order_by("n")
median = counts[counts.count() // 2]
client = User.objects.get(pk=median["client_id"])
admin = User.objects.filter(role="admin").order_by("id").first()
print(json.dumps({
    "orders": Order.objects.count(),
    "client": {"id": client.pk, "orders": median["n"], "token": token(client)},
    "admin": {"id": admin.pk, "orders": Order.objects.count(), "token": token(admin)},
}))
"""


def personas() -> dict:
    output = manage("shell", "-c", SHELL_SNIPPET, capture=True)
    return json.loads(output.strip().splitlines()[-1])


def start_servers() -> list[subprocess.Popen]:
    processes = []
    for settings_module, port in SERVERS.values():
        env = {**ENV, "DJANGO_SETTINGS_MODULE": settings_module}
        processes.append(
            subprocess.Popen(
                [
                    str(Path(PYTHON).parent / "gunicorn"),
                    "samia.wsgi:application",
                    "--bind",
                    f"127.0.0.1:{port}",
                    "--workers",
                    "4",
                    "--no-control-socket",
                    "--log-level",
                    "warning",
                ],
                cwd=ROOT,
                env=env,
                start_new_session=True,
            )
        )
    for _, port in SERVERS.values():
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        else:
            raise SystemExit(f"gunicorn on port {port} did not start")
    return processes


def stop_servers(processes) -> None:
    for process in processes:
        os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        process.wait(timeout=30)


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(number) * _UNITS[unit]


def wrk(port: int, token: str, seconds: int, connections: int) -> dict:
    output = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-H",
            f"Authorization: Bearer {token}",
            f"http://127.0.0.1:{port}/orders",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    if "Non-2xx" in output:
        raise SystemExit(f"wrk saw errors:\n{output}")
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50_ms": _ms(re.search(r"^\s+50%\s+(\S+)", output, re.M).group(1)),
        "p99_ms": _ms(re.search(r"^\s+99%\s+(\S+)", output, re.M).group(1)),
    }


def check_page(port: int, token: str) -> int:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/orders", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return len(json.load(response)["results"])


EXPLAIN_SNIPPET = """
from django.db import connection
from samia.marketplace import selectors
from samia.rls.binding import bound
from samia.rls.registry import Identity
for label, user_id, role in [("client", {client}, "client"), ("admin", {admin}, "admin")]:
    identity = Identity(user_id, role)
    with bound(identity):
        query = selectors.order_list(identity=identity).select_related("service")[:51]
        sql, params = query.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) " + sql, params)
            print(f"--- {{label}} (bound as samia_app) ---")
            for (line,) in cursor.fetchall():
                print(line)
"""


def explain(people: dict) -> str:
    return manage(
        "shell", "-c", EXPLAIN_SNIPPET.format(client=people["client"]["id"], admin=people["admin"]["id"]), capture=True
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=400)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--pairs", type=int, default=12)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--skip-seed", action="store_true")
    options = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install -y wrk (make bench does it)")
    if options.pairs < 12:
        raise SystemExit("--pairs: at least 12, or the spread says nothing")

    if options.skip_seed:
        manage("migrate", "--noinput", "-v0")
    else:
        prepare(options.scale)
    people = personas()
    if people["orders"] < 200_000:
        raise SystemExit(f"only {people['orders']} orders; run with a larger --scale")
    print(f"orders: {people['orders']}; client #{people['client']['id']} has {people['client']['orders']} orders")

    processes = start_servers()
    try:
        for persona in ("client", "admin"):
            for _, port in SERVERS.values():
                assert check_page(port, people[persona]["token"]) == min(50, people[persona]["orders"])
                wrk(port, people[persona]["token"], 3, options.connections)  # warm up
        pairs = {"client": [], "admin": []}
        for index in range(options.pairs):
            for persona in ("client", "admin"):
                order = ("rls", "service_role") if index % 2 == 0 else ("service_role", "rls")
                pair = {}
                for name in order:
                    pair[name] = wrk(SERVERS[name][1], people[persona]["token"], options.seconds, options.connections)
                pairs[persona].append(pair)
                ratio = pair["rls"]["rps"] / pair["service_role"]["rps"]
                print(f"  pair {index + 1:>2} {persona:<6} {'-'.join(order):<17} ratio {ratio:.3f}", flush=True)
    finally:
        stop_servers(processes)

    results = {}
    print(
        "\n| persona | pairs | RLS / service-role throughput: median | min | Q1 | Q3 | max | RLS p50 / p99 ms | service p50 / p99 ms |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for persona, runs in pairs.items():
        ratios = sorted(run["rls"]["rps"] / run["service_role"]["rps"] for run in runs)
        q1, _, q3 = statistics.quantiles(ratios, n=4)
        latency = {
            name: {key: statistics.median(run[name][key] for run in runs) for key in ("rps", "p50_ms", "p99_ms")}
            for name in SERVERS
        }
        results[persona] = {
            "pairs": len(ratios),
            "ratio_median": round(statistics.median(ratios), 3),
            "ratio_min": round(ratios[0], 3),
            "ratio_q1": round(q1, 3),
            "ratio_q3": round(q3, 3),
            "ratio_max": round(ratios[-1], 3),
            **latency,
        }
        row = results[persona]
        print(
            f"| {persona} | {len(ratios)} | {row['ratio_median']:.3f} | {row['ratio_min']:.3f} | {row['ratio_q1']:.3f} "
            f"| {row['ratio_q3']:.3f} | {row['ratio_max']:.3f} | {latency['rls']['p50_ms']:.1f} / "
            f"{latency['rls']['p99_ms']:.1f} | {latency['service_role']['p50_ms']:.1f} / "
            f"{latency['service_role']['p99_ms']:.1f} |"
        )
    print(f"\n(load average {os.getloadavg()[0]:.1f}; 2 cores shared with other work)")
    plans = explain(people)
    print(plans)
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "rls_overhead.json").write_text(json.dumps({"orders": people["orders"], "results": results}, indent=2))
    (out / "rls_overhead_explain.txt").write_text(plans)


if __name__ == "__main__":
    main()
