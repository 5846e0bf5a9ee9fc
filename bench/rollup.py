"""How long the analytics rollups take on 5M events over 30 days, beside the floor, and API latency.

Creates (or reuses) the dedicated database samia_analytics_bench (BENCH_DATABASE), migrates it, loads 5M events
with INSERT ... SELECT generate_series (sessions, full order lifecycles, refunds, payments, calls,
listens, notifications) into a staging table and from there into events_raw in time order, as they arrive
in production, then in the same run times:
- two floors, side by side: a bare `SELECT name, count(*) ... GROUP BY name` over the days the
  nightly run must read (today and its late window) and over the 30-day window, measured in
  alternation (A B A B ..., median of 5 each) at the same point of the run, in one process (as the
  rollup's statements run: Postgres 15 never runs INSERT ... SELECT in parallel) and as Postgres
  plans it (parallel); the nightly run is divided by both;
- a full backfill of the 30 days (analytics_backfill's code path: a week per transaction), and one
  transaction per day for comparison;
- nightly runs (rollup_recent: today + the late window) as they happen in production: the aggregates
  are first brought back to the state of three nights ago, then each of the last three days is rolled
  up as a new day with its late window, so every run writes a day it has not seen before (the late
  days are unchanged: the run checks their fingerprints and leaves them); then the same night again
  with nothing changed, and a night on which each late day received a late event;
- p50/p99 of the metrics APIs through the Django test client, as an admin and as a reader.
Run by hand, never from pytest:

    .venv/bin/python bench/rollup.py [--events 5000000] [--requests 300]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATABASE = os.environ.get("BENCH_DATABASE", "samia_analytics_bench")
os.environ["DATABASE_URL"] = f"postgres://root@127.0.0.1:5432/{DATABASE}"
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "samia.settings")
sys.path.insert(0, str(ROOT))

DAYS = 30
# Share of the events per family; orders come as 6-event lifecycles, payments as 2-event pairs.
MIX = {"session": 0.55, "order": 0.24, "payment": 0.08, "call": 0.05, "listen": 0.05, "notification": 0.03}


def _prepare() -> None:
    exists = subprocess.run(
        [
            "psql",
            "-h",
            "127.0.0.1",
            "-U",
            "root",
            "-d",
            "postgres",
            "-tAc",
            f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}'",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if not exists:
        subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", "-O", "root", DATABASE], check=True)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, check=True, env=os.environ)


COLUMNS = "occurred_at, name, version, actor_id, actor_key, subject_type, subject_id, properties"


def _load(cursor, total: int, start: dt.datetime) -> None:
    seconds = DAYS * 86400
    counts = {family: int(total * share) for family, share in MIX.items()}
    cursor.execute("TRUNCATE events_raw")
    cursor.execute(
        "SELECT samia.events_ensure_partitions(2, %s)",
        [max(1, (dt.datetime.now(dt.UTC).year - start.year) * 12 + dt.datetime.now(dt.UTC).month - start.month + 1)],
    )
    base = "%(start)s::timestamptz"
    params = {"start": start}
    # Each family is generated into a staging table, then all of them go into events_raw in time order:
    # events arrive as they happen, so a day's events sit together in the table, as they would in
    # production (generated family by family at random times, a week's sessions touched every page).
    cursor.execute("DROP TABLE IF EXISTS bench_events_stage")
    cursor.execute(f"CREATE UNLOGGED TABLE bench_events_stage AS SELECT {COLUMNS} FROM events_raw WITH NO DATA")
    statements = {
        "session": f"""
            INSERT INTO bench_events_stage (occurred_at, name, version, actor_id, actor_key, subject_type, properties)
            SELECT {base} + (random() * {seconds}) * interval '1 second', 'app.session', 1,
                   1 + (random() * 200000)::int, '', '', '{{"platform": "ios"}}'
            FROM generate_series(1, {counts["session"]})""",
        "order": f"""
            INSERT INTO bench_events_stage (occurred_at, name, version, actor_id, actor_key, subject_type, subject_id, properties)
            SELECT {base} + (o * {seconds}.0 / {counts["order"] // 6}) * interval '1 second'
                     + (step * 900 + (o % 97) * 13) * interval '1 second',
                   (ARRAY['order.created','order.assigned','order.started','order.submitted',
                          'order.approved','order.delivered'])[step + 1], 1,
                   1 + o % 200000, '', 'marketplace.order', o,
                   jsonb_build_object('service', (ARRAY['tarot','coffee','astro','healing'])[1 + o % 4],
                                      'gold', false, 'to_status', 'x')
                   || CASE WHEN step = 0 THEN '{{}}'::jsonb
                           ELSE jsonb_build_object('reader_id', 200001 + o % 300) END
            FROM generate_series(1, {counts["order"] // 6}) o, generate_series(0, 5) step""",
        # one order in 33 refunded a day after its delivery (the rollup files it on the delivery's day)
        "refund": f"""
            INSERT INTO bench_events_stage (occurred_at, name, version, actor_id, actor_key, subject_type, subject_id, properties)
            SELECT {base} + (o * {seconds}.0 / {counts["order"] // 6}) * interval '1 second'
                     + (5 * 900 + (o % 97) * 13 + 86400) * interval '1 second',
                   'order.refunded', 1, NULL, '', 'marketplace.order', o,
                   jsonb_build_object('service', (ARRAY['tarot','coffee','astro','healing'])[1 + o % 4], 'gold', false,
                                      'reader_id', 200001 + o % 300)
            FROM generate_series(1, {counts["order"] // 6}) o WHERE o % 33 = 0""",
        "payment": f"""
            INSERT INTO bench_events_stage (occurred_at, name, version, actor_id, actor_key, subject_type, subject_id, properties)
            SELECT {base} + (p * {seconds}.0 / {counts["payment"] // 2}) * interval '1 second' + step * interval '5 seconds',
                   CASE WHEN step = 0 THEN 'payment.attempted'
                        WHEN p % 10 = 0 THEN 'payment.failed' ELSE 'payment.succeeded' END, 1,
                   1, '', 'marketplace.payment', p,
                   jsonb_build_object('provider', (ARRAY['stripe','square'])[1 + p % 2],
                                      'country', (ARRAY['SA','AE','EG','KW'])[1 + p % 4],
                                      'amount', '25.00', 'currency', 'USD', 'attempt', 1)
            FROM generate_series(1, {counts["payment"] // 2}) p, generate_series(0, 1) step""",
        "call": f"""
            INSERT INTO bench_events_stage (occurred_at, name, version, actor_id, actor_key, subject_type, subject_id, properties)
            SELECT {base} + (random() * {seconds}) * interval '1 second',
                   (ARRAY['call.scheduled','call.answered','call.dropped','call.ended'])[1 + c % 4], 1,
                   1, '', 'marketplace.call', c, jsonb_build_object('reader_id', 200001 + c % 300)
            FROM generate_series(1, {counts["call"]}) c""",
        "listen": f"""
            INSERT INTO bench_events_stage (occurred_at, name, version, actor_id, actor_key, subject_type, properties)
            SELECT {base} + (random() * {seconds}) * interval '1 second', 'horoscope.listened', 1,
                   1 + (random() * 200000)::int, '', '',
                   jsonb_build_object('sign', (ARRAY['aries','leo','virgo','libra'])[1 + l % 4], 'percent', l % 101)
            FROM generate_series(1, {counts["listen"]}) l""",
        "notification": f"""
            INSERT INTO bench_events_stage (occurred_at, name, version, actor_id, actor_key, subject_type, properties)
            SELECT {base} + (random() * {seconds}) * interval '1 second',
                   (ARRAY['notification.sent','notification.delivered','notification.opened',
                          'notification.clicked'])[1 + n % 4], 1,
                   1 + n % 200000, '', '', jsonb_build_object('channel', (ARRAY['push','email','sms'])[1 + n % 3],
                                                           'campaign_id', n % 20)
            FROM generate_series(1, {counts["notification"]}) n""",
    }
    for family, sql in statements.items():
        began = time.perf_counter()
        cursor.execute(sql.replace(" % ", " %% "), params)  # modulo, not a placeholder
        print(f"  loaded {family:<13} {cursor.rowcount:>9,} rows in {time.perf_counter() - began:5.1f} s")
    began = time.perf_counter()
    cursor.execute(f"INSERT INTO events_raw ({COLUMNS}) SELECT {COLUMNS} FROM bench_events_stage ORDER BY occurred_at")
    cursor.execute("DROP TABLE bench_events_stage")
    print(f"  into events_raw in time order {time.perf_counter() - began:5.1f} s")
    # Events arrive over days in production and autovacuum has long visited them by the nightly run
    # (hint bits set, visibility map current): measure that state, not the first read after a bulk load.
    began = time.perf_counter()
    cursor.execute("VACUUM ANALYZE events_raw")
    print(f"  vacuum analyze {time.perf_counter() - began:5.1f} s")


def _timed(function) -> float:
    began = time.perf_counter()
    function()
    return time.perf_counter() - began


def _settle(cursor) -> None:
    """VACUUM ANALYZE the aggregates: after millions of rows written by the backfills, autovacuum would
    otherwise run during the timed nightly runs and API requests that follow (what a day later is done)."""
    cursor.execute(
        "SELECT relname FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace "
        "AND (relname LIKE 'metrics%%' OR relname LIKE 'analytics%%')"
    )
    for (table,) in cursor.fetchall():
        cursor.execute(f'VACUUM ANALYZE "{table}"')


def _forget(cursor, after: dt.date) -> None:
    """Bring the aggregates back to the state they had before the days after `after` were rolled up:
    the rows of those days go, the order timeline forgets what happened after them (as if those events
    had not arrived yet). The next nightly run then writes a whole new day, as the nightly job does."""
    from analytics.rollups import (
        ACTIVITY_EPOCH,
        BLOCK_DAYS,
        DIFFERENTIAL,
        FAMILIES,
        PRECOMPUTED,
        block_mask,
        day_bounds,
    )

    _, boundary = day_bounds(after, after)
    for table in [table for table, _, _ in FAMILIES if table not in DIFFERENTIAL] + list(PRECOMPUTED):
        cursor.execute(f"DELETE FROM {table} WHERE day > %s", [after])
    block = (after - ACTIVITY_EPOCH).days // BLOCK_DAYS
    cursor.execute("DELETE FROM metrics_actor_activity_block WHERE block > %s", [block])
    later = block_mask(after + dt.timedelta(days=1), after + dt.timedelta(days=BLOCK_DAYS), block)
    cursor.execute("UPDATE metrics_actor_activity_block SET days = days & ~%s::bigint WHERE block = %s", [later, block])
    cursor.execute("DELETE FROM metrics_actor_first_seen WHERE first_day > %s", [after])
    cursor.execute("DELETE FROM analytics_rolled_up_day WHERE day > %s", [after])
    cursor.execute("DELETE FROM analytics_order_timeline WHERE created_at >= %s", [boundary])
    for column in ("started_at", "delivered_at", "cancelled_at", "refunded_at"):
        cursor.execute(f"UPDATE analytics_order_timeline SET {column} = NULL WHERE {column} >= %s", [boundary])
    _settle(cursor)


def _late_sessions(cursor, days: list[dt.date]) -> None:
    """One late app.session per day, from an actor never seen before, at noon in the business timezone."""
    from analytics.rollups import business_timezone, day_bounds

    for day in days:
        # the previous run's late session of that day, if any, goes first (its id is in the day's fingerprint)
        start, end = day_bounds(day, day)
        cursor.execute(
            "DELETE FROM events_raw WHERE name = 'app.session' AND occurred_at >= %s AND occurred_at < %s "
            "AND actor_key = md5(%s)",
            [start, end, f"late-{day}"],
        )
        cursor.execute(
            "INSERT INTO events_raw (occurred_at, name, version, actor_key) "
            "VALUES ((%s::date + time '12:00') AT TIME ZONE %s, 'app.session', 1, md5(%s))",
            [day, business_timezone(), f"late-{day}"],
        )


def _check_windows(cursor, first: dt.date, last: dt.date) -> None:
    """The stored DAU/WAU/MAU of the nightly runs' days equal a plain COUNT(DISTINCT) over the session events."""
    from analytics.rollups import ACTOR, business_timezone, day_bounds

    for day in (first + dt.timedelta(days=i) for i in range((last - first).days + 1)):
        counted = []
        for span in (1, 7, 30):
            start, end = day_bounds(day - dt.timedelta(days=span - 1), day)
            cursor.execute(
                f"SELECT count(DISTINCT {ACTOR}) FROM events_raw "
                "WHERE name = 'app.session' AND occurred_at >= %s AND occurred_at < %s",
                [start, end],
            )
            counted.append(cursor.fetchone()[0])
        cursor.execute("SELECT dau, wau, mau FROM metrics_daily_active_users WHERE day = %s", [day])
        stored = list(cursor.fetchone())
        assert stored == counted, (day, stored, counted, business_timezone())
    print(f"  DAU/WAU/MAU of {first}..{last} equal COUNT(DISTINCT) over the session events")


def _floor(cursor, first: dt.date, last: dt.date, *, parallel: bool = True) -> float:
    """The bare count, as Postgres plans it (a parallel scan: 3 processes here) or in one process, like the
    rollup's INSERT ... SELECT statements, which Postgres 15 never runs in parallel."""
    from analytics.rollups import day_bounds

    start, end = day_bounds(first, last)
    cursor.execute("RESET max_parallel_workers_per_gather" if parallel else "SET max_parallel_workers_per_gather = 0")

    def run():
        cursor.execute(
            "SELECT name, count(*) FROM events_raw WHERE occurred_at >= %s AND occurred_at < %s GROUP BY name",
            [start, end],
        )
        cursor.fetchall()

    best = min(_timed(run) for _ in range(3))
    cursor.execute("RESET max_parallel_workers_per_gather")
    return best


def _floors(cursor, windows: dict[str, tuple[dt.date, dt.date]], repeats: int = 5) -> dict:
    """Each window's bare count, serial and parallel, timed in alternation so both see the same load."""
    from analytics.rollups import day_bounds

    times = {(key, mode): [] for key in windows for mode in ("serial", "parallel")}
    rows = {}
    for _ in range(repeats):
        for mode in ("serial", "parallel"):
            cursor.execute(
                "SET max_parallel_workers_per_gather = 0"
                if mode == "serial"
                else "RESET max_parallel_workers_per_gather"
            )
            for key, (first, last) in windows.items():
                start, end = day_bounds(first, last)

                def run(start=start, end=end, key=key):
                    cursor.execute(
                        "SELECT name, count(*) FROM events_raw WHERE occurred_at >= %s AND occurred_at < %s GROUP BY name",
                        [start, end],
                    )
                    rows[key] = sum(count for _, count in cursor.fetchall())

                times[(key, mode)].append(_timed(run))
    cursor.execute("RESET max_parallel_workers_per_gather")
    return {
        key: {"rows": rows[key], **{mode: statistics.median(times[(key, mode)]) for mode in ("serial", "parallel")}}
        for key in windows
    }


def _latencies(requests: int) -> dict:
    from django.test import Client
    from rest_framework_simplejwt.tokens import RefreshToken

    from samia.accounts.models import User

    def client_for(role: str, user_id: int | None = None) -> Client:
        user = User.objects.filter(role=role, email=f"bench-{role}@example.test").first()
        if user is None:
            user = User.objects.create_user(email=f"bench-{role}@example.test", password="bench-only-pw-1", role=role)
        token = RefreshToken.for_user(user)
        token["role"] = user.role
        return Client(HTTP_AUTHORIZATION=f"Bearer {token.access_token}")

    admin, reader = client_for("admin"), client_for("reader")
    routes = {
        "overview": (admin, "/metrics/overview"),
        "fulfillment (admin, 30 days)": (admin, "/metrics/fulfillment?group_by=service"),
        "fulfillment (reader)": (reader, "/metrics/fulfillment"),
        "payments": (admin, "/metrics/payments?group_by=provider,country"),
        "calls": (admin, "/metrics/calls?group_by=reader"),
        "engagement": (admin, "/metrics/engagement"),
        "content": (admin, "/metrics/content?group_by=sign"),
        "notifications": (admin, "/metrics/notifications?group_by=channel,campaign"),
    }
    result = {}
    for label, (client, url) in routes.items():
        assert client.get(url).status_code == 200, url
        samples = []
        for _ in range(requests):
            began = time.perf_counter()
            client.get(url)
            samples.append((time.perf_counter() - began) * 1000)
        samples.sort()
        result[label] = (statistics.median(samples), samples[int(len(samples) * 0.99) - 1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=5_000_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--skip-load", action="store_true", help="Reuse the events already loaded.")
    options = parser.parse_args()

    _prepare()
    import django

    django.setup()
    from django.db import connection

    from analytics.rollups import backfill, business_today, rollup_days, rollup_recent

    today = business_today()
    first = today - dt.timedelta(days=DAYS - 1)
    start = dt.datetime.combine(first, dt.time(), tzinfo=dt.UTC)
    with connection.cursor() as cursor:
        if not options.skip_load:
            print(f"loading {options.events:,} events over {DAYS} days ...")
            began = time.perf_counter()
            _load(cursor, options.events, start)
            print(f"  total load {time.perf_counter() - began:.1f} s")
        cursor.execute("SELECT count(*) FROM events_raw")
        print(f"events_raw rows: {cursor.fetchone()[0]:,}")
        for table in (
            "analytics_order_timeline",
            "metrics_actor_first_seen",
            "metrics_actor_activity_block",
            "metrics_daily_active_users",
            "metrics_retention_cohort",
            "analytics_rolled_up_day",
        ):
            cursor.execute(f"TRUNCATE {table}")

        def per_day():
            day = first
            while day <= today:
                rollup_days(first=day, last=day)
                day += dt.timedelta(days=1)

        full = _timed(lambda: backfill(first=first, last=today))  # the command's default: a week per transaction
        daily = _timed(per_day)
        _settle(cursor)  # the nightly run comes a day after the previous one: autovacuum has been through
        full_floor = _floor(cursor, first, today)
        full_serial_floor = _floor(cursor, first, today, parallel=False)
        single = _timed(lambda: rollup_days(first=first, last=today))
        # Three nights, each rolling up a new day: first back to the state of three nights ago.
        _forget(cursor, today - dt.timedelta(days=3))
        nights = []
        for back in (2, 1, 0):
            night = today - dt.timedelta(days=back)
            nights.append(_timed(lambda night=night: rollup_recent(today=night)))
            print(f"  nightly run for {night}: {nights[-1]:.2f} s")
        nightly = statistics.median(nights)
        _check_windows(cursor, today - dt.timedelta(days=3), today)
        # The same night again: nothing changed, the run only takes the fingerprints of its 4 days.
        unchanged = _timed(lambda: rollup_recent(today=today))
        # A night on which every late day received an event (a new session each): 3 days recomputed.
        _late_sessions(cursor, [today - dt.timedelta(days=back) for back in (3, 2, 1)])
        late_night = _timed(lambda: rollup_recent(today=today))
        _check_windows(cursor, today - dt.timedelta(days=3), today)
        late = today - dt.timedelta(days=3)
        floors = _floors(cursor, {"nightly": (late, today), "window": (first, today)})

    print(f"\nfull backfill, {DAYS} days, a week per transaction:  {full:6.2f} s   (goal <= 60 s)")
    print(f"full backfill, {DAYS} days, one transaction per day: {daily:6.2f} s")
    print(f"full backfill, {DAYS} days, one transaction:          {single:6.2f} s")
    print(
        f"floor over the {DAYS} days (before the nights):     {full_floor:6.2f} s (one process {full_serial_floor:.2f} s)"
    )
    print(f"nightly run (a new day; 3 late days unchanged), median of 3: {nightly:6.2f} s")
    print(f"  the same night run again (nothing changed):     {unchanged:6.2f} s")
    print(f"  a night with a late event on each late day:     {late_night:6.2f} s")
    print("\nthe nightly run beside two floors (bare GROUP BY name, measured in alternation, median of 5):")
    print("| floor over | rows | one process | nightly / it | parallel | nightly / it |")
    print("|---|---|---|---|---|---|")
    for label, key in (
        (f"the {late:%m-%d}..{today:%m-%d} days the nightly run reads", "nightly"),
        (f"the {DAYS}-day window", "window"),
    ):
        floor = floors[key]
        print(
            f"| {label} | {floor['rows']:,} | {floor['serial']:.2f} s | {nightly / floor['serial']:.2f}x "
            f"| {floor['parallel']:.2f} s | {nightly / floor['parallel']:.2f}x |"
        )
    print(f"(goal: nightly <= 2x the {DAYS}-day floor; load average {os.getloadavg()[0]:.1f}, 2 cores shared)")
    print(f"\nmetrics API latency over {options.requests} requests (Django test client, in process):")
    for label, (p50, p99) in _latencies(options.requests).items():
        print(f"  {label:<30} p50 {p50:6.1f} ms   p99 {p99:6.1f} ms")


if __name__ == "__main__":
    main()
