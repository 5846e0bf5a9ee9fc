"""Campaign planning and dispatch at real provider latency (M22, issue 23), run by hand (never in pytest):

    .venv/bin/python bench/campaign.py [--users 200000] [--due 20000] [--sms-due 6000] [--workers 2]
        [--channel sms|push|both] [--latency-ms 80] [--p99-ms 400] [--sms-rate 200] [--kill-after 5]
        [--skip-seed] [--skip-service-role] [--profile] [--explain]

1. Seeds (or, with --skip-seed, reuses) --users opted-in clients spread over 16 IANA zones, most
   with DST, each with a distinct E.164 phone, one push device (FCM or APNs, half each in every zone) and
   granted marketing consent for sms and push; set-based (INSERT ... SELECT generate_series).
2. Times planning.campaign_schedule for one campaign per channel to all of them, bound as an admin
   (the API's path, goal <= 20 s), then again (must create 0 rows), then (unless
   --skip-service-role) a second campaign as the service role (its sends are deleted afterwards).
3. Makes --due push / --sms-due SMS sends due now (SMS: only recipients whose local time is inside
   the 08:00-21:00 legal window), starts the fakes (tests/fakes) in their own processes with the
   latency distribution, Twilio enforcing --sms-rate (and workers configured with the same
   NOTIFICATIONS_RATE_LIMITS), and --workers dispatcher processes from a common start. Reports
   sends/s per channel (sent rows over the wall time), SMS as the fake saw it (requests over the
   span of its first to last request, its busiest second, requests over its limit), the peak
   in-flight per worker, peak RSS, CPU and database connections per worker (pg_stat_activity).
4. --kill-after S: the SMS run SIGKILLs worker 0 S seconds in, lets its lease lapse, and runs one
   more worker: reports lost (still pending), SMS sent twice, and `unknown` against the in-flight
   window (NOTIFICATIONS_SEND_CONCURRENCY).

It works in its own database (BENCH_DATABASE_URL, default
postgres://root@127.0.0.1:5432/samia_bench_campaign), created when missing and migrated; each
run empties the campaign, send and bounce tables there. The machine is shared: figures are
under whatever else runs; the fakes' and workers' CPU seconds are printed next to them.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://root@127.0.0.1:5432/samia_bench_campaign")
os.environ["DATABASE_URL"] = DATABASE_URL
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "samia.settings")
# Its own Redis key space: rate-limit buckets, provider pauses and circuits stay out of others' way.
os.environ.setdefault("CACHE_KEY_PREFIX", "bench-campaign")
# Start == end: no quiet window for push; SMS marketing keeps its legal 21:00-08:00 night anyway.
os.environ["NOTIFICATIONS_QUIET_START"] = os.environ["NOTIFICATIONS_QUIET_END"] = "00:00"
sys.path.insert(0, str(ROOT))
from bench import campaign_world as world  # noqa: E402  (after the environment above)
from bench.keys import BENCH_KEYS  # noqa: E402  (the project root is on the path now)

PROVIDERS = {"sms": ("sms",), "push": ("fcm", "apns")}
SCHEDULE_GOAL, PUSH_GOAL, RSS_GOAL, CONNECTIONS_GOAL = 20.0, 1000.0, 200.0, 4
BUDGET_SECONDS = 900


def _environment(channel: str) -> dict:
    return {
        **os.environ,
        "DEBUG": "0",  # a real worker: no query log
        **{name: os.environ.get(name, value) for name, value in BENCH_KEYS.items()},
        "LOG_LEVEL": os.environ.get("BENCH_WORKER_LOG_LEVEL", "INFO"),  # the per-send log line is real work
        "BENCH_PROVIDERS": ",".join(PROVIDERS[channel]),
        "NOTIFICATIONS_BATCH_SIZE": os.environ.get("NOTIFICATIONS_BATCH_SIZE", "500"),
    }


def _worker() -> None:
    """One dispatcher process: set up, wait for the start signal, dispatch until nothing is due."""
    import resource

    import django

    django.setup()
    from django.db import connection

    from notifications.dispatch import dispatch
    from samia.providers import registry

    connection.ensure_connection()
    for name in os.environ["BENCH_PROVIDERS"].split(","):
        registry.adapter(name).require()
    print("ready", flush=True)
    sys.stdin.readline()
    profile_path = os.environ.get("BENCH_PROFILE")
    if profile_path:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        report = profiler.runcall(dispatch, budget_seconds=BUDGET_SECONDS)
        with open(profile_path, "w") as stream:
            stats = pstats.Stats(profiler, stream=stream)
            stats.sort_stats("tottime").print_stats(20)
            stats.sort_stats("cumulative").print_stats(r"notifications|providers|events|psycopg/cursor|sessions", 30)
    else:
        report = dispatch(budget_seconds=BUDGET_SECONDS)
    finished = time.time()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    print(
        json.dumps(
            {
                "report": report,
                "finished": finished,
                "peak_rss_mb": int(status["VmHWM"].split()[0]) / 1024,
                "cpu": usage.ru_utime + usage.ru_stime,
            }
        ),
        flush=True,
    )


def _arguments():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=200_000)
    parser.add_argument("--due", type=int, default=20_000, help="push sends made due now")
    parser.add_argument("--sms-due", type=int, default=6_000, help="SMS sends made due now")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--channel", choices=("sms", "push", "both"), default="both")
    parser.add_argument("--latency-ms", type=float, default=80.0, help="the fakes' median latency")
    parser.add_argument("--p99-ms", type=float, default=400.0, help="the fakes' 99th percentile latency")
    parser.add_argument("--error-share", type=float, default=0.0, help="share the fakes answer 429/503")
    parser.add_argument("--sms-rate", type=float, default=200.0, help="Twilio MPS: configured and enforced")
    parser.add_argument("--sms-queue-seconds", type=float, default=0.25, help="burst the fake Twilio queues")
    parser.add_argument("--kill-after", type=float, help="SIGKILL worker 0 this many seconds into the SMS run")
    parser.add_argument("--skip-seed", action="store_true", help="Reuse the users already seeded.")
    parser.add_argument("--skip-service-role", action="store_true", help="Schedule as the admin only.")
    parser.add_argument("--skip-dispatch", action="store_true", help="Schedule only.")
    parser.add_argument("--profile", action="store_true", help="cProfile the first dispatch worker.")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE the schedule INSERT.")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args()


def main() -> None:
    options = _arguments()
    if options.worker:
        return _worker()

    command = shlex.join([".venv/bin/python", "bench/campaign.py", *sys.argv[1:]])
    channels = ("sms", "push") if options.channel == "both" else (options.channel,)
    world.prepare(DATABASE_URL)
    import django

    django.setup()
    from django.db import connection

    from bench import campaign_dispatch
    from samia.rls.registry import Identity

    with connection.cursor() as cursor:
        cursor.execute("SELECT samia.events_ensure_partitions()")
        cursor.execute(
            "TRUNCATE notifications_bounce, notifications_send, notifications_campaign, notifications_audience"
        )
        if not options.skip_seed:
            print(f"seeding {options.users:,} users over {len(world.ZONES)} zones ...")
            world.seed(cursor, options.users)
        cursor.execute("SELECT count(*) FROM accounts_user WHERE email LIKE 'bench-user-%%'")
        seeded = cursor.fetchone()[0]
    print(f"bench users: {seeded:,}")
    admin_identity = Identity(world.admin().pk, "admin")
    capture = world.Capture()
    schedule, dispatched = {}, {}
    for channel in channels:
        campaign = world.campaign_create(admin_identity, channel, f"bench {channel}")
        with connection.cursor() as cursor:
            # Each schedule starts from a checkpoint: what earlier runs wrote is not flushed during this one.
            cursor.execute("CHECKPOINT")
        with connection.execute_wrapper(capture):
            first = world.schedule(admin_identity, campaign.pk, as_admin=True)
        again = world.schedule(admin_identity, campaign.pk, as_admin=True)
        service = (0.0, 0)
        if not options.skip_service_role:
            service_campaign = world.campaign_create(admin_identity, channel, f"bench {channel} (service role)")
            service = world.schedule("system:bench", service_campaign.pk, as_admin=False)
            with connection.cursor() as cursor:
                cursor.execute("DELETE FROM notifications_send WHERE campaign_id = %s", [service_campaign.pk])
        schedule[channel] = {"admin": first, "again": again, "service": service}
        print(f"{channel}: scheduled {first[1]:,} sends in {first[0]:.2f} s as admin; again: {again[1]} rows")
        if options.explain or first[0] > SCHEDULE_GOAL:
            world.explain(capture, admin_identity, channel)
        if options.skip_dispatch:
            continue
        count = options.sms_due if channel == "sms" else options.due
        with connection.cursor() as cursor:
            due = world.make_due(cursor, campaign.pk, count, daytime_only=channel == "sms")
        print(f"{channel}: {due:,} sends due now, dispatching with {options.workers} workers ...")
        kill_after = options.kill_after if channel == "sms" else None
        directory = Path(tempfile.mkdtemp(prefix=f"bench-campaign-{channel}-"))  # kept: the logs
        environment = _environment(channel)
        if options.profile:
            environment["BENCH_PROFILE"] = str(directory / f"{channel}.prof.txt")
        figures = campaign_dispatch.run(channel, environment, directory, options, kill_after)
        if options.profile:
            print("\n".join(f"  {line}" for line in (directory / f"{channel}.prof.txt").read_text().splitlines()))
        with connection.cursor() as cursor:
            figures["states"] = world.states(cursor, campaign.pk)
            figures["lost"] = world.leftovers(cursor, campaign.pk)
        figures["due"] = due
        figures["rate"] = figures["states"].get("sent", 0) / figures["wall"]
        dispatched[channel] = figures
        print(f"{channel}: states {figures['states']}")
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('shared_buffers'), current_setting('max_wal_size')")
        server = cursor.fetchone()
    _print(command, seeded, options, schedule, dispatched, server)


def _print(command: str, seeded: int, options, schedule: dict, dispatched: dict, server: tuple) -> None:
    from django.conf import settings

    load = os.getloadavg()
    print(f"\n$ {command}")
    print(
        f"{seeded:,} users, {len(world.ZONES)} zones, {options.workers} dispatch workers, fakes at "
        f"{options.latency_ms:g} ms median / {options.p99_ms:g} ms p99; load average {load[0]:.1f} "
        f"(2 cores shared with other work)\nserver: shared_buffers {server[0]}, max_wal_size {server[1]}; "
        f"schedule on {settings.NOTIFICATIONS_SCHEDULE_CONNECTIONS} connection(s) "
        f"from {settings.NOTIFICATIONS_SCHEDULE_SPLIT_USERS:,} users\n"
    )
    print(f"{'figure':<58} {'value':>10}  goal")
    for channel, figures in schedule.items():
        first, again, service = figures["admin"], figures["again"], figures["service"]
        print(f"{channel} schedule {first[1]:,} sends, bound as admin (s)".ljust(58), f"{first[0]:>10.2f}  <= 20 s")
        if service[1]:
            print(f"{channel} schedule, service role (s)".ljust(58), f"{service[0]:>10.2f}")
        print(f"{channel} schedule again: rows created / s".ljust(58), f"{again[1]:>5} {again[0]:>4.1f}  0 rows")
    for channel, figures in dispatched.items():
        sent = figures["states"].get("sent", 0)
        label = f"{channel} dispatch, {sent:,}/{figures['due']:,} sent in {figures['wall']:.1f} s (sends/s)"
        goal = f">= {PUSH_GOAL:.0f}/s" if channel == "push" else f"{options.sms_rate:g}/s -5 %, never above"
        print(label.ljust(58), f"{figures['rate']:>10.0f}  {goal}")
        for name, fake in figures["fakes"].items():
            rate = fake["requests"] / fake["seconds"] if fake["seconds"] else 0
            print(
                f"  fake {name}: {fake['requests']:,} requests, {rate:.0f}/s first to last, busiest whole "
                f"second {fake['peak_full_second']}, over its limit {fake['excess']}, injected {fake['injected_errors']}"
            )
        print(f"  fakes' CPU {figures['fake_cpu']:.1f} s")
        for index, worker in enumerate(figures["workers"]):
            report = worker["report"]
            connections = figures["connections"].get(f"bench-worker-{index + (1 if figures['killed'] else 0)}", 0)
            print(
                f"  worker: peak in flight {report['peak_in_flight']}, peak RSS {worker['peak_rss_mb']:.0f} MB "
                f"(<= {RSS_GOAL:.0f}), DB connections {connections} (<= {CONNECTIONS_GOAL}), CPU {worker['cpu']:.1f} s, "
                f"sent {report['sent']:,}, retried {report['retried']}, unknown {report['unknown']}"
            )
        if figures["killed"] is not None:
            states, lost = figures["states"], figures["lost"]
            twilio = figures["fakes"]["twilio"]
            window = int(os.environ.get("NOTIFICATIONS_SEND_CONCURRENCY", "200"))
            print(
                f"  kill -9 of worker 0 at {figures['killed']:.1f} s: lost {lost}, SMS twice "
                f"{twilio['messages'] - twilio['distinct_to']}, unknown {states.get('unknown', 0)} "
                f"(in-flight window {window}), the finishing worker reaped {figures['after_kill']['report']['reaped']}"
            )


if __name__ == "__main__":
    main()
