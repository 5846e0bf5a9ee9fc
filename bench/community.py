"""What the community feature costs, through the real stack, with the `community` switch on.

Seeds its own database (samia_h17_bench by default; --database to choose) with 100,000 comments on 20,000 delivered
readings (5 a reading: 60% approved, 25% pending, 10% hidden, 5% removed; authors alternate client
and reader), 4,000 clients, 1,000 readers and 20,000 reactions; starts gunicorn with 2 workers as
shipped (web login samia_web, every request bound as samia_app), and measures with wrk:

- GET /community/threads?order_id= as a client (rotating over their own readings) and as a
  monitor (rotating over 500 readings): p50 and p99 at 2 connections; GET /me as the floor;
- POST /community/comments at 8 connections, each request from the next of 2,000 clients (the
  SRE route limits and daily quota stay on: a client posts well under them);
- FeatureOn alone, in Postgres: the thread query 300 times in a PL/pgSQL loop as the client and
  as the monitor, with the policies as declared and with each FeatureOn compiled to the constant its
  switch holds (the same policies and rows without the lookup, swapped in a transaction that is
  rolled back), alternating, 41 rounds; the median of the rounds' ratios and its quartiles, and the
  ratio of the fastest rounds (other work on the machine only adds time); and one FeatureOn initPlan
  alone over `(select true)`, compiled and as the table lookup (best of 7 loops of 20,000).

    .venv/bin/python bench/community.py [--seconds 15] [--skip-seed] [--database samia_h17_bench]
        [--loops 300] [--rounds 41]
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
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.keys import BENCH_KEYS  # noqa: E402  (the project root is on the path now)

PYTHON = sys.executable
PORT = 8117
POST_CLIENTS = 2000


def _required_keys() -> dict:
    """A bench-only value for every key samia/settings/ requires when DEBUG is off (the list grows)."""
    text = "".join(path.read_text() for path in (ROOT / "samia" / "settings").glob("*.py"))
    names = re.findall(r'required_secret\(\s*"(\w+)"', text)
    return {name: (f"k0=bench-only-{name.lower()}" if name.endswith("_KEYS") else f"bench-only-{name.lower()}-0123456789")
            for name in names}  # fmt: skip


def environment(database: str) -> dict:
    return {
        **os.environ,
        **_required_keys(),
        **BENCH_KEYS,
        # The route limits stay on (POST rotates over 2,000 clients); GETs come from one caller.
        "SRE_RATE_USER": "100000/second;10000000/minute",
        "DATABASE_URL": f"postgres://root@127.0.0.1:5432/{database}",
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "samia.settings",
        # A Redis database of its own: the tasks the posts enqueue must reach no other checkout's worker.
        "REDIS_URL": "redis://127.0.0.1:6379/11",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/11",
        "CELERY_RESULT_BACKEND": "redis://127.0.0.1:6379/11",
        "CACHE_KEY_PREFIX": "samia-bench-community",
    }


def run(env, *args, capture=False):
    result = subprocess.run(args, cwd=ROOT, env=env, check=True, text=True, capture_output=capture)
    return result.stdout if capture else None


def manage(env, *args, capture=False):
    return run(env, PYTHON, "manage.py", *args, capture=capture)


SEED = """
import hashlib
from django.contrib.auth.hashers import make_password
from django.db import connection
from django.utils import timezone
from samia.accounts.models import User
from samia.marketplace.models import Order, Service

now = timezone.now()
password = make_password("bench-password-2026")
User.objects.bulk_create(
    [User(email=f"bench-client{i}@bench.test", role="client", password=password) for i in range(4000)]
    + [User(email=f"bench-reader{i}@bench.test", role="reader", password=password) for i in range(1000)]
    + [User(email="bench-monitor@bench.test", role="monitor", password=password)],
    batch_size=2000,
)
clients = list(User.objects.filter(role="client", email__startswith="bench-").order_by("id").values_list("id", flat=True))
readers = list(User.objects.filter(role="reader", email__startswith="bench-").order_by("id").values_list("id", flat=True))
service, _ = Service.objects.get_or_create(code="tarot", defaults={"name": "Tarot", "base_price": 25})
Order.objects.bulk_create(
    [
        Order(client_id=clients[i % 4000], reader_id=readers[i % 1000], service=service, question="Bench question",
              status="delivered", assigned_at=now, delivered_at=now)
        for i in range(20000)
    ],
    batch_size=5000,
)
with connection.cursor() as cursor:
    cursor.execute('''
        INSERT INTO community_comment (order_id, author_id, author_role, body, body_sha256, status, created_at, decided_at)
        SELECT o.id, CASE WHEN n % 2 = 0 THEN o.client_id ELSE o.reader_id END,
               CASE WHEN n % 2 = 0 THEN 'client' ELSE 'reader' END,
               'A thoughtful reading, thank you ' || n, encode(sha256(('A thoughtful reading, thank you ' || n)::bytea), 'hex'),
               s.status, now() - (n || ' minutes')::interval, CASE WHEN s.status = 'pending' THEN NULL ELSE now() END
        FROM marketplace_order o CROSS JOIN generate_series(0, 4) AS n
        CROSS JOIN LATERAL (SELECT CASE WHEN (o.id * 5 + n) % 20 < 12 THEN 'approved'
                                        WHEN (o.id * 5 + n) % 20 < 17 THEN 'pending'
                                        WHEN (o.id * 5 + n) % 20 < 19 THEN 'hidden' ELSE 'removed' END AS status) s
        WHERE o.status = 'delivered' AND o.question = 'Bench question'
    ''')
    cursor.execute('''
        INSERT INTO community_reaction (order_id, user_id, kind, created_at)
        SELECT id, client_id, 'heart', now() FROM marketplace_order WHERE question = 'Bench question'
    ''')
    cursor.execute("UPDATE waffle_switch SET active = true WHERE name = 'community'")
print("seeded")
"""

PEOPLE = """
import json
from rest_framework_simplejwt.tokens import RefreshToken
from samia.accounts.models import User
from samia.marketplace.models import Order

def token(user):
    refresh = RefreshToken.for_user(user)
    refresh["role"] = user.role
    return str(refresh.access_token)

orders = Order.objects.filter(question="Bench question").order_by("id")
client = User.objects.get(email="bench-client7@bench.test")
monitor = User.objects.get(email="bench-monitor@bench.test")
posters = list(User.objects.filter(email__startswith="bench-client").order_by("id")[:{posters}])
first_order = dict(orders.filter(client__in=posters).values_list("client_id", "id").order_by("-id"))
print(json.dumps({{
    "comments": __import__("community.models", fromlist=["Comment"]).Comment.objects.count(),
    "client": {{"id": client.pk, "token": token(client), "orders": list(orders.filter(client=client).values_list("id", flat=True))}},
    "monitor": {{"id": monitor.pk, "token": token(monitor), "orders": list(orders.values_list("id", flat=True)[:20000:40])}},
    "posters": [[token(u), first_order[u.pk]] for u in posters],
}}))
"""


def prepare(env, database: str, skip_seed: bool) -> None:
    exists = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "root", "-d", "postgres", "-tAc",
         f"SELECT 1 FROM pg_database WHERE datname = '{database}'"],
        capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    if exists != "1":
        run(env, "createdb", "-h", "127.0.0.1", "-U", "root", database)
    manage(env, "migrate", "--noinput", "-v0")
    if not skip_seed:
        started = time.perf_counter()
        print(manage(env, "shell", "-c", SEED, capture=True).strip(), f"in {time.perf_counter() - started:.0f} s")
    run(env, "psql", "-h", "127.0.0.1", "-U", "root", database, "-qc", "VACUUM ANALYZE")


def start_server(env) -> subprocess.Popen:
    gunicorn = str(Path(PYTHON).parent / "gunicorn")
    process = subprocess.Popen(
        [gunicorn, "samia.wsgi:application", "--bind", f"127.0.0.1:{PORT}", "--workers", "2",
         "--no-control-socket", "--log-level", "warning"],
        cwd=ROOT, env=env, start_new_session=True,
    )  # fmt: skip
    for _ in range(150):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{PORT}/healthz", timeout=1)
            return process
        except OSError:
            time.sleep(0.2)
    os.killpg(process.pid, signal.SIGTERM)
    raise SystemExit("gunicorn did not start")


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(number) * _UNITS[unit]


ROTATE = """
local items = {items}
local counter = 0
function setup(thread) thread:set("start", counter * 997) counter = counter + 1 end
function init(args) i = start or 0 end
function request()
  i = i % #items + 1
  local item = items[i]
  {request}
end
"""
GET_REQUEST = 'return wrk.format("GET", item, {["Authorization"] = "Bearer " .. token})'
POST_REQUEST = (
    'return wrk.format("POST", "/community/comments", {["Authorization"] = "Bearer " .. item[1], '
    '["Content-Type"] = "application/json"}, \'{"order_id": \' .. item[2] .. \', "body": "A thoughtful reading."}\')'
)


def wrk(script: str, seconds: int, connections: int, token: str = "") -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(f'token = "{token}"\n' + script)
    try:
        output = subprocess.run(
            ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", handle.name,
             f"http://127.0.0.1:{PORT}"],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
    finally:
        os.unlink(handle.name)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50_ms": _ms(re.search(r"^\s+50%\s+(\S+)", output, re.M).group(1)),
        "p99_ms": _ms(re.search(r"^\s+99%\s+(\S+)", output, re.M).group(1)),
        "requests": requests,
        "errors": int(errors.group(1)) if errors else 0,
    }


def _lua_list(values) -> str:
    return "{" + ", ".join(json.dumps(v).replace("[", "{").replace("]", "}") for v in values) + "}"


def get_script(paths: list[str]) -> str:
    return ROTATE.format(items=_lua_list(paths), request=GET_REQUEST)


FEATURE_COST = """
import dataclasses, json, statistics, time
from django.db import connection, transaction
from community.policies import COMMENTS
from samia.rls.binding import bound
from samia.rls.conditions import All, Always, Any_, FeatureOn, Via
from samia.rls.registry import Identity, Rule, TableDeclaration
from waffle.models import Switch

ON = set(Switch.objects.filter(active=True).values_list("name", flat=True))

class Constant(Always):
    value: bool = True

    def sql(self):
        return "true" if self.value else "false"


def strip(c):
    # Each switch as the constant it is now (community on, community_public off): the same rows, no lookup.
    if isinstance(c, FeatureOn):
        constant = Constant()
        object.__setattr__(constant, "value", c.name in ON)
        return constant
    if isinstance(c, (All, Any_)):
        return type(c)(tuple(strip(p) for p in c.parts))
    if isinstance(c, Via):
        return dataclasses.replace(c, condition=strip(c.condition))
    return c

without = TableDeclaration(COMMENTS.table, COMMENTS.model_label,
    tuple(Rule(r.operation, r.roles, strip(r.using), strip(r.check) if r.check else None) for r in COMMENTS.rules),
    COMMENTS.app_label)
swap = [f'DROP POLICY "{{p.name}}" ON {{p.table}}' for p in COMMENTS.policies()] + [p.sql() for p in without.policies()]
LOOP = "DO $$ BEGIN FOR i IN 1..{loops} LOOP PERFORM id, author_id, author_role, body, status, created_at FROM community_comment WHERE order_id = {{order}} ORDER BY id LIMIT 51; END LOOP; END $$"

def timed(identity, order, stripped):
    with transaction.atomic():
        if stripped:
            with connection.cursor() as cursor:
                for statement in swap:
                    cursor.execute(statement)
        with bound(identity), connection.cursor() as cursor:
            started = time.perf_counter()
            cursor.execute(LOOP.format(order=order))
            elapsed = time.perf_counter() - started
        transaction.set_rollback(True)
    return elapsed * 1e6 / {loops}

with connection.cursor() as cursor:
    cursor.execute("SELECT pg_sequence_last_value('samia.feature_generation'), "
                   "pg_get_functiondef('samia.feature_on(text)'::regprocedure)")
    generation, definition = cursor.fetchone()
# Whether the policies run on the compiled answer (features 0004) rather than the table lookup.
result = {{"compiled": f"OPERATOR(pg_catalog.=) {{generation}} THEN" in definition}}

def per_statement(check):
    with connection.cursor() as cursor:
        started = time.perf_counter()
        cursor.execute("DO $$ BEGIN FOR i IN 1..20000 LOOP PERFORM 1 WHERE (select " + check + "); END LOOP; END $$")
        return (time.perf_counter() - started) * 1e6 / 20000

# One FeatureOn initPlan alone, over `(select true)`: the compiled function and the table lookup
# (what the policies ran before features 0004, and what a statement runs while a change is in flight).
checks = {{"constant": "true", "compiled": "samia.feature_on('community')", "lookup": "samia.feature_lookup('community')"}}
times = {{name: [] for name in checks}}
for _ in range(7):
    for name, check in checks.items():
        times[name].append(per_statement(check))
result["initplan_us"] = {{name: round(min(times[name]) - min(times["constant"]), 2) for name in ("compiled", "lookup")}}

for label, user_id, role, order in {cases}:
    identity = Identity(user_id, role)
    timed(identity, order, False); timed(identity, order, True)  # warm up
    samples = {{"with": [], "without": []}}
    for _ in range({rounds}):
        samples["with"].append(timed(identity, order, False))
        samples["without"].append(timed(identity, order, True))
    # On a shared, loaded machine: each round's pair measured back to back, the median of their ratios.
    pairs = sorted(a / b for a, b in zip(samples["with"], samples["without"], strict=True))
    result[label] = {{
        "with_us": round(statistics.median(samples["with"]), 1),
        "without_us": round(statistics.median(samples["without"]), 1),
        "ratio": round(statistics.median(pairs), 3),
        "ratio_quartiles": [round(pairs[len(pairs) // 4], 3), round(pairs[3 * len(pairs) // 4], 3)],
        # Other work only ever adds time: the fastest round of each is the least disturbed reading.
        "ratio_of_fastest": round(min(samples["with"]) / min(samples["without"]), 3),
    }}
print(json.dumps(result))
"""


def feature_cost(env, people: dict, loops: int, rounds: int) -> dict:
    cases = [
        ("client", people["client"]["id"], "client", people["client"]["orders"][0]),
        ("monitor", people["monitor"]["id"], "monitor", people["client"]["orders"][0]),
    ]
    script = FEATURE_COST.format(cases=repr(cases), loops=loops, rounds=rounds)
    output = manage(env, "shell", "-c", script, capture=True)
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", default="samia_h17_bench")
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--skip-seed", action="store_true")
    parser.add_argument("--loops", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=41, help="FeatureOn: alternating rounds (odd: a true median)")
    options = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install -y wrk")
    env = environment(options.database)
    prepare(env, options.database, options.skip_seed)
    people = json.loads(manage(env, "shell", "-c", PEOPLE.format(posters=POST_CLIENTS), capture=True).splitlines()[-1])
    print(
        f"comments: {people['comments']}; client #{people['client']['id']} has {len(people['client']['orders'])} readings"
    )

    results: dict = {"feature_on": feature_cost(env, people, options.loops, options.rounds)}
    server = start_server(env)
    try:
        client, monitor = people["client"], people["monitor"]
        threads = {
            "client": (get_script([f"/community/threads?order_id={o}" for o in client["orders"]]), client["token"]),
            "monitor": (get_script([f"/community/threads?order_id={o}" for o in monitor["orders"]]), monitor["token"]),
            "floor_me": (get_script(["/me"]), client["token"]),
        }
        for script, token in threads.values():
            wrk(script, 3, 2, token)  # warm up
        for name, (script, token) in threads.items():
            results[f"threads_{name}"] = wrk(script, options.seconds, 2, token)
        posting = ROTATE.format(items=_lua_list(people["posters"]), request=POST_REQUEST)
        results["post_comments"] = wrk(posting, options.seconds, 8)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        subprocess.run(["redis-cli", "-n", "11", "FLUSHDB"], capture_output=True)
    print(json.dumps(results, indent=2))
    verdict = {
        "threads p99 <= 30 ms (client)": results["threads_client"]["p99_ms"] <= 30,
        "threads p99 <= 30 ms (monitor)": results["threads_monitor"]["p99_ms"] <= 30,
        "POST comments >= 150 req/s": results["post_comments"]["rps"] >= 150,
        "FeatureOn <= 5% (client)": results["feature_on"]["client"]["ratio"] <= 1.05,
        "FeatureOn <= 5% (monitor)": results["feature_on"]["monitor"]["ratio"] <= 1.05,
    }
    for check, ok in verdict.items():
        print(f"{'PASS' if ok else 'FAIL'}  {check}")
    load = os.getloadavg()
    print(f"load average at the end: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} (2 cores shared with other work)")
    print(
        f"median of thread p99s: {statistics.median([results[k]['p99_ms'] for k in results if k.startswith('threads_')])}"
    )


if __name__ == "__main__":
    main()
