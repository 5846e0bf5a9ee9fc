"""What row-level security costs on GET /orders, through the real stack.

Seeds a benchmark database with seed_demo (>= 200k orders), starts two gunicorn servers
(4 workers each) on loopback: one as shipped (logged in as samia_web, every request SET LOCAL
ROLE samia_app with its identity and the identity's proof, which samia.actor_id() verifies), one
with the same views bound as the service role (logged in as the owner). wrk loads each in turn,
as a client and as an admin, on a page of 50; the servers are measured alternately, so
both see the same machine. Prints requests/s, p50, p99 and the ratio, and EXPLAIN plans.

    .venv/bin/python bench/rls_overhead.py [--scale 400] [--seconds 15] [--rounds 2]
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
DATABASE = "samia_bench"
DATABASE_URL = f"postgres://root@127.0.0.1:5432/{DATABASE}"
SECRET_KEY = BENCH_KEYS["SECRET_KEY"]
ENV = {
    **os.environ,
    **BENCH_KEYS,
    "DATABASE_URL": DATABASE_URL,
    "DEBUG": "0",
    "LOG_LEVEL": "WARNING",
    "PYTHONPATH": str(ROOT),
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
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--skip-seed", action="store_true")
    options = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install -y wrk (make bench does it)")

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
        samples = {(p, s): [] for p in ("client", "admin") for s in SERVERS}
        for _ in range(options.rounds):
            for persona in ("client", "admin"):
                for name, (_, port) in SERVERS.items():
                    samples[(persona, name)].append(
                        wrk(port, people[persona]["token"], options.seconds, options.connections)
                    )
    finally:
        stop_servers(processes)

    results = {}
    print("\n| persona | binding | requests/s | p50 ms | p99 ms |")
    print("|---|---|---|---|---|")
    for (persona, name), runs in samples.items():
        merged = {key: statistics.median(run[key] for run in runs) for key in ("rps", "p50_ms", "p99_ms")}
        results.setdefault(persona, {})[name] = merged
        print(f"| {persona} | {name} | {merged['rps']:.0f} | {merged['p50_ms']:.1f} | {merged['p99_ms']:.1f} |")
    print()
    for persona, pair in results.items():
        ratio = pair["rls"]["rps"] / pair["service_role"]["rps"]
        pair["rls_throughput_ratio"] = round(ratio, 3)
        print(f"{persona}: RLS keeps {ratio:.1%} of service-role throughput (cost {1 - ratio:.1%})")
    plans = explain(people)
    print(plans)
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "rls_overhead.json").write_text(json.dumps({"orders": people["orders"], "results": results}, indent=2))
    (out / "rls_overhead_explain.txt").write_text(plans)


if __name__ == "__main__":
    main()
