"""Back-office latency at seed_demo --scale 400: the dashboard and every changelist, through gunicorn.

Reuses the `samia_bench` database (or `--database NAME`) (200,000 orders from the RLS bench) when it holds a world, else
seeds one; rolls the analytics up for the dashboard's 30 days when they are missing and opens the
demo's moderation cases. Starts gunicorn (2 workers, DEBUG off, the web login) on loopback, logs
in as the demo admin with a session like a browser, then requests the dashboard and each
changelist the admin's sidebar lists, one after another, and prints p50/p95 per page (client-side,
so the figure includes rendering and the loopback round trip). Each request to a page is followed by
one to the floor (an empty list, Celery Beat's solar schedules): the floor's p50 in the same window
says how loaded the machine was while that page was measured, and `load` is the 1-minute load
average when the page's turn ended. `cpu` is the gunicorn workers' own CPU time per request of the
page (from /proc, the floor's requests subtracted): the Python work a page costs, which the
neighbours' load slows but does not add to (SQL runs in Postgres and is not in it).

    .venv/bin/python bench/backoffice.py [--requests 30] [--seed] [--database samia_bench]
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.cookiejar
import os
import re
import signal
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.keys import BENCH_KEYS  # noqa: E402  (the project root is on the path now)

PYTHON = sys.executable
DATABASE = "samia_bench"
if "--database" in sys.argv:  # before ENV below is built from it
    DATABASE = sys.argv[sys.argv.index("--database") + 1]
PORT = 8111
BASE = f"http://127.0.0.1:{PORT}"
ENV = {
    **os.environ,
    **BENCH_KEYS,
    "DATABASE_URL": f"postgres://root@127.0.0.1:5432/{DATABASE}",
    "DEBUG": "0",
    "LOG_LEVEL": "WARNING",
    "PYTHONPATH": str(ROOT),
    # plain HTTP on loopback: cookies without Secure, and a password alone (the demo's admin has no TOTP device)
    "SECURE_COOKIES": "0",
    "STAFF_2FA_REQUIRED": "0",
    "ALLOWED_HOSTS": "127.0.0.1",
}
ADMIN = ("admin@demo.samia.test", "demo-password-2026")
GUNICORN = ("--workers", "2", "--no-control-socket", "--log-level", "warning")
GOALS_MS = {"dashboard": 150, "changelist": 200}


def manage(*args: str) -> str:
    return subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=ENV, check=True, text=True, capture_output=True
    ).stdout


def psql(sql: str) -> str:
    return subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "root", DATABASE, "-tAc", sql], check=True, text=True, capture_output=True
    ).stdout.strip()


def prepare(seed: bool) -> None:
    exists = subprocess.run(
        [
            "psql",
            "-h",
            "127.0.0.1",
            "-U",
            "root",
            "postgres",
            "-tAc",
            f"SELECT 1 FROM pg_database WHERE datname='{DATABASE}'",
        ],
        capture_output=True,
        text=True,
    ).stdout.strip()
    if exists != "1":
        subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "root", DATABASE], check=True)
    manage("migrate", "--noinput", "-v0")
    if seed or int(psql("SELECT count(*) FROM marketplace_order")) < 200_000:
        started = time.perf_counter()
        manage("seed_demo", "--scale", "400", "--seed", "42")
        print(f"seed_demo --scale 400: {time.perf_counter() - started:.0f} s")
    today = dt.datetime.now(ZoneInfo("Asia/Riyadh")).date()
    first = today - dt.timedelta(days=30)
    if int(psql(f"SELECT count(*) FROM metrics_daily_fulfillment WHERE day >= '{first}'")) == 0:
        started = time.perf_counter()
        manage("analytics_backfill", "--from", first.isoformat(), "--to", today.isoformat(), "-v0")
        print(f"analytics_backfill {first}..{today}: {time.perf_counter() - started:.0f} s")
    manage("seed_moderation")
    psql("VACUUM ANALYZE")
    print(
        "world:",
        psql("SELECT count(*) FROM marketplace_order"),
        "orders,",
        psql("SELECT count(*) FROM accounts_user"),
        "users,",
        psql("SELECT count(*) FROM moderation_case"),
        "cases,",
        psql("SELECT count(*) FROM events_raw"),
        "raw events",
    )


def start_server() -> subprocess.Popen:
    server = subprocess.Popen(
        [str(Path(PYTHON).parent / "gunicorn"), "samia.wsgi:application", "--bind", f"127.0.0.1:{PORT}", *GUNICORN],
        cwd=ROOT,
        env=ENV,
        start_new_session=True,
    )
    for _ in range(100):
        try:
            urllib.request.urlopen(f"{BASE}/healthz", timeout=1)
            return server
        except OSError:
            time.sleep(0.3)
    server.kill()
    raise SystemExit("gunicorn did not start")


def logged_in() -> urllib.request.OpenerDirector:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{BASE}/backoffice/login/").read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    body = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token, "username": ADMIN[0], "password": ADMIN[1], "next": "/backoffice/"}
    )
    request = urllib.request.Request(f"{BASE}/backoffice/login/", data=body.encode(), headers={"Referer": BASE})
    landed = opener.open(request)
    if landed.url.rstrip("/") != f"{BASE}/backoffice":
        raise SystemExit(f"login failed: landed on {landed.url}")
    return opener


FLOOR = "/backoffice/django_celery_beat/solarschedule/"


def worker_cpu_ms(server: subprocess.Popen) -> float:
    """The CPU time (user + system) the gunicorn workers have used so far, in milliseconds."""
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
    ticks = 0
    for pid in children:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks * 1000 / os.sysconf("SC_CLK_TCK")


def once(opener, url: str) -> float:
    started = time.perf_counter()
    response = opener.open(url)
    response.read()
    assert response.status == 200, url
    return (time.perf_counter() - started) * 1000


def timed(opener, url: str, requests: int, server: subprocess.Popen) -> tuple[list[float], list[float], float]:
    """Time `requests` requests to `url`, each followed by one to the floor; return both and the page's CPU ms."""
    opener.open(url).read()  # warm: the worker's first plans and templates
    times, floor, page_cpu, floor_cpu = [], [], 0.0, 0.0
    for _ in range(requests):
        before = worker_cpu_ms(server)
        times.append(once(opener, url))
        between = worker_cpu_ms(server)
        floor.append(once(opener, BASE + FLOOR))
        page_cpu, floor_cpu = page_cpu + between - before, floor_cpu + worker_cpu_ms(server) - between
    return times, floor, max(page_cpu - floor_cpu, 0) / requests


def p95(times: list[float]) -> float:
    return statistics.quantiles(times, n=20)[-1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--seed", action="store_true", help="Seed a new world even if one is there.")
    parser.add_argument("--database", default=DATABASE, help="The database to bench (created and seeded if absent).")
    parser.add_argument(
        "--pages", nargs="*", help="Only these pages: 'dashboard', or a part of a list's URL (e.g. accounts/user)."
    )
    arguments = parser.parse_args()
    prepare(arguments.seed)
    server = start_server()
    try:
        opener = logged_in()
        home = opener.open(f"{BASE}/backoffice/").read().decode()
        lists = sorted(set(re.findall(r'href="(/backoffice/[a-z_]+/[a-z_]+/)"', home)))
        pages = [("dashboard", "/backoffice/")] + [("changelist", url) for url in lists]
        print(f"load average before: {os.getloadavg()[0]:.1f}; {arguments.requests} requests per page")
        if arguments.pages:
            wanted = arguments.pages
            pages = [(kind, url) for kind, url in pages if kind in wanted or any(p in url[11:] for p in wanted if p)]
        print("| page | p50 ms | p95 ms | goal | floor p50 ms | load | cpu ms over floor |")
        print("|---|---|---|---|---|---|---|")
        worst = {}
        for kind, url in pages:
            times, floor, cpu = timed(opener, BASE + url, arguments.requests, server)
            worst[kind] = max(worst.get(kind, 0), p95(times))
            flag = "" if p95(times) <= GOALS_MS[kind] else " (over)"
            print(
                f"| {url} | {statistics.median(times):.0f} | {p95(times):.0f}{flag} | {GOALS_MS[kind]} "
                f"| {statistics.median(floor):.0f} | {os.getloadavg()[0]:.1f} | {cpu:.0f} |",
                flush=True,
            )
        print(f"load average after: {os.getloadavg()[0]:.1f}; worst p95: {worst}")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
