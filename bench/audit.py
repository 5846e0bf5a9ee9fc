"""Audit trail benchmark, run by hand (never part of pytest):

    .venv/bin/python bench/audit.py [--rows 1000000] [--entries 16000]

1. Append throughput with 1 and with 8 concurrent writers (separate processes, one entry per
   transaction), two ways: record() on its own (autocommit: the INSERT is the transaction, as for
   a failed login) and record() inside transaction.atomic() (BEGIN, INSERT, COMMIT, as with the
   action it records). Then the sweep chains what the last commits left waiting, and a check that
   the chain did not fork: seq contiguous, verify ok.
   The same append in SQL alone with pgbench (8 clients, one INSERT per transaction through the
   same trigger path), when pgbench is installed: what the database sustains without Django.
2. audit_verify speed (selectors.chain_verify) over --rows rows, beside raw hashlib sha256 over
   the same bytes.

It works in its own database (BENCH_DATABASE, default samia_bench_audit), created afresh and migrated.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import multiprocessing
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATABASE = os.environ.get("BENCH_DATABASE", "samia_bench_audit")
SERVER = os.environ.get("BENCH_SERVER", "postgres://root@127.0.0.1:5432")
os.environ["DATABASE_URL"] = f"{SERVER}/{DATABASE}"
# Production settings (DEBUG off: no query log in the writers), with a key of the bench's own.
os.environ.setdefault("DEBUG", "0")
# audit_verify checks checkpoint signatures against a key it trusts: the bench's own (the same in every
# writer process, which inherit the environment).
os.environ.setdefault("AUDIT_SIGNING_KEY", base64.b64encode(os.urandom(32)).decode())
os.environ.setdefault("AUDIT_SIGNING_KEY_ID", os.urandom(8).hex().upper())
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "samia.settings")
sys.path.insert(0, str(ROOT))
from bench.keys import BENCH_KEYS  # noqa: E402  (the project root is on the path now)

for name, value in BENCH_KEYS.items():
    os.environ.setdefault(name, value)


def _fresh_database():
    subprocess.run(["dropdb", "--if-exists", "--maintenance-db", f"{SERVER}/postgres", DATABASE], check=True)
    subprocess.run(["createdb", "--maintenance-db", f"{SERVER}/postgres", DATABASE], check=True)
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, check=True)


def _setup():
    import django

    django.setup()


def _writer(writer: int, count: int, ready, finished, atomic: bool) -> None:
    import contextlib

    _setup()
    from django.db import connection, transaction

    from samia.audit.services import record

    connection.ensure_connection()
    block = transaction.atomic if atomic else contextlib.nullcontext
    ready.wait()  # every writer has imported Django and connected: the clock starts now
    for i in range(count):
        with block():
            record(action="bench.entry.write", actor="system:bench", details={"writer": writer, "i": i})
    finished[writer] = time.time()  # the process's exit is not part of the measure
    connection.close()


def _settle() -> None:
    """Start each measured run from the same state: dead rows vacuumed, dirty pages written out."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE audit_auditentry")
        cursor.execute("CHECKPOINT")


def append(writers: int, entries: int, *, atomic: bool) -> float:
    """Return entries/s for `writers` processes committing `entries` in all, one per transaction."""
    from django.db import connections

    _settle()
    connections.close_all()
    per_writer = entries // writers
    context = multiprocessing.get_context("spawn")
    ready, finished = context.Barrier(writers + 1), context.Array("d", writers)
    processes = [context.Process(target=_writer, args=(w, per_writer, ready, finished, atomic)) for w in range(writers)]
    for process in processes:
        process.start()
    ready.wait(timeout=120)
    start_at = time.time()
    for process in processes:
        process.join()
        if process.exitcode:
            raise SystemExit(f"a writer failed ({process.exitcode})")
    return per_writer * writers / (max(finished) - start_at)


def check_no_fork() -> tuple[int, int, bool]:
    """Sweep what the last commits left waiting, then check: seq contiguous, nothing unchained, verify ok."""
    from django.db import connection

    from samia.audit.selectors import chain_verify
    from samia.audit.services import chain_pending

    waiting = chain_pending()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), min(seq), max(seq), count(*) FILTER (WHERE seq IS NULL) FROM audit_auditentry")
        count, low, high, unchained = cursor.fetchone()
    contiguous = unchained == 0 and low == 1 and high == count
    report = chain_verify()
    return count, waiting, contiguous and report.ok


def append_sql(clients: int, seconds: int = 10) -> float | None:
    """Entries/s that pgbench sustains with `clients` connections, each INSERT its own transaction."""
    import shutil
    import tempfile

    if not shutil.which("pgbench"):
        return None
    _settle()
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as script:
        payload = _payload(0).replace("'", "''")
        script.write(f"INSERT INTO audit_auditentry (payload) VALUES ('{payload}');\n")
    output = subprocess.run(
        ["pgbench", "-n", "-f", script.name, "-c", str(clients), "-j", "2", "-T", str(seconds), f"{SERVER}/{DATABASE}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    os.unlink(script.name)
    for line in output.splitlines():
        if line.startswith("tps = "):
            return float(line.split()[2])
    return None


def _payload(i: int) -> str:
    from samia.audit.services import canonical

    return canonical(
        {
            "action": "bench.row.load",
            "actor_id": None,
            "actor_role": "system:bench",
            "details": {"i": i, "writer": i % 8},
            "family": "bench",
            "occurred_at": "2026-01-15T12:00:00.000000Z",
            "outcome": "success",
            "request_id": "",
            "target_id": str(i),
            "target_type": "bench.thing",
        }
    )


def load(rows: int) -> None:
    """Append `rows` correctly chained rows fast: hashes computed here, COPY with the triggers off."""
    from django.db import connection, transaction

    with connection.cursor() as cursor:
        cursor.execute("SELECT seq, row_hash FROM audit_auditentry ORDER BY seq DESC LIMIT 1")
        seq, prev = cursor.fetchone() or (0, "0" * 64)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        # The other columns are generated by Postgres from the payload.
        with cursor.cursor.copy("COPY audit_auditentry (seq, payload, prev_hash, row_hash) FROM STDIN") as copy:
            for i in range(rows):
                payload = _payload(i)
                digest = hashlib.sha256((prev + payload).encode()).hexdigest()
                seq += 1
                copy.write_row((seq, payload, prev, digest))
                prev = digest
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE audit_auditentry")


def verify_speed() -> dict:
    from django.core.management import call_command
    from django.db import connection

    from samia.audit.selectors import chain_verify

    chain_verify()  # warm the cache
    started = time.perf_counter()
    report = chain_verify()
    elapsed = time.perf_counter() - started
    started = time.perf_counter()
    call_command("audit_verify", stdout=io.StringIO())
    command_elapsed = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("SELECT prev_hash, payload FROM audit_auditentry ORDER BY seq")
        pairs = cursor.fetchall()
    started = time.perf_counter()
    sha256 = hashlib.sha256
    for prev, payload in pairs:
        sha256((prev + payload).encode()).hexdigest()
    raw = time.perf_counter() - started
    return {
        "ok": report.ok,
        "rows": report.rows,
        "verify_rows_s": report.rows / elapsed,
        "command_rows_s": report.rows / command_elapsed,
        "raw_rows_s": len(pairs) / raw,
    }


def verify_only():
    """Re-run the verify benchmark on the database a previous run left."""
    _setup()
    print(verify_speed())


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows for the verify benchmark")
    parser.add_argument(
        "--entries", type=int, default=16_000, help="entries per append run (a quarter of them with one writer)"
    )
    args = parser.parse_args()

    _fresh_database()
    _setup()
    results = {}
    append(2, 2_000, atomic=False)  # warm-up, not reported: the fresh database's first minutes are slower
    for atomic in (False, True):
        for writers in (1, 8):
            rate = append(writers, args.entries if writers > 1 else args.entries // 4, atomic=atomic)
            results[atomic, writers] = rate
            how = "inside transaction.atomic()" if atomic else "autocommit"
            print(f"append, {writers} writer(s), record() {how}: {rate:,.0f} entries/s")
    for clients in (1, 8):
        sql_rate = append_sql(clients)
        if sql_rate is not None:
            print(f"append in SQL (pgbench, {clients} client(s)): {sql_rate:,.0f} entries/s")
    count, waiting, intact = check_no_fork()
    print(
        f"after appending: {count} rows ({waiting} chained by the final sweep), "
        f"seq contiguous and chain verifies: {intact}"
    )
    load(args.rows)
    speed = verify_speed()
    print(
        f"verify: {speed['rows']:,} rows, chain_verify() {speed['verify_rows_s']:,.0f} rows/s, "
        f"manage.py audit_verify {speed['command_rows_s']:,.0f} rows/s (ok: {speed['ok']}); "
        f"raw hashlib sha256 over the same bytes: {speed['raw_rows_s']:,.0f} rows/s"
    )
    if not intact or not speed["ok"] or results[False, 8] < 2000 or speed["verify_rows_s"] < 200_000:
        print("below a goal (2,000 entries/s with 8 writers, 200,000 rows/s verify) or damaged")


if __name__ == "__main__":
    main()
