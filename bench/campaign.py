"""Campaign planning and dispatch at scale (M22), run by hand (never part of pytest):

    .venv/bin/python bench/campaign.py [--users 200000] [--due 20000] [--workers 2]
                                       [--channel sms|push|both] [--skip-seed] [--profile] [--explain]

1. Seeds (or, with --skip-seed, reuses) --users opted-in clients spread over 16 IANA zones, most
   with DST, each with a distinct E.164 phone, an FCM device token and granted marketing consent
   for sms and push; set-based (INSERT ... SELECT generate_series) and idempotent.
2. Times planning.campaign_schedule for one campaign per channel to all of them, bound as an admin
   (the API's path, goal <= 20 s), then again (must create 0 rows), then a second campaign as the
   service role (its sends are deleted afterwards).
3. Makes --due of the planned sends due now (SMS: only recipients whose local time is inside the
   08:00-21:00 legal window, which applies to SMS marketing whatever the quiet hours say), starts
   the fake provider (tests/fakes) in its own process and --workers dispatcher processes, each
   calling notifications.dispatch.dispatch() against it; reports sends/s (sent rows over the wall
   time from the common start to the last worker's end, goal >= 500/s) and each worker's peak RSS.
   --profile runs the first worker under cProfile; --explain prints EXPLAIN ANALYZE of the
   schedule INSERT (both also happen when a goal is missed).

It works in its own database (BENCH_DATABASE_URL, default
postgres://root@127.0.0.1:5432/samia_bench_campaign), created when missing and migrated; each
run empties the campaign, send and bounce tables there.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
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
# Start == end: no quiet window for push; SMS marketing keeps its legal 21:00-08:00 night anyway.
os.environ["NOTIFICATIONS_QUIET_START"] = os.environ["NOTIFICATIONS_QUIET_END"] = "00:00"
sys.path.insert(0, str(ROOT))
from bench import campaign_world as world  # noqa: E402  (after the environment above)
from bench.keys import BENCH_KEYS  # noqa: E402  (the project root is on the path now)

PROVIDER = {"sms": "sms", "push": "fcm"}
TWILIO_SID, TWILIO_TOKEN, SERVICE_SID = "AC" + "0" * 32, "bench-twilio-token", "MG" + "1" * 32
SCHEDULE_GOAL, DISPATCH_GOAL = 20.0, 500.0
BUDGET_SECONDS = 900


def _fake(channel: str, directory: Path) -> tuple[subprocess.Popen, dict]:
    """Start the channel's fake provider; return it and the settings that point at it."""
    if channel == "push":
        key_file = directory / "service-account.json"
        command = ["-m", "tests.fakes.fcm", "--port", "0", "--service-account", str(key_file)]
    else:
        command = ["-m", "tests.fakes.twilio"]
        command += ["--port", "0", "--account-sid", TWILIO_SID, "--auth-token", TWILIO_TOKEN]
    process = subprocess.Popen([sys.executable, *command], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    base_url = process.stdout.readline().split()[-1]
    if channel == "push":
        return process, {
            "FCM_PROJECT_ID": "samia-bench",
            "FCM_SERVICE_ACCOUNT_JSON": key_file.read_text(),
            "FCM_END_POINT_BASE": base_url,
        }
    return process, {
        "TWILIO_ACCOUNT_SID": TWILIO_SID,
        "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
        "TWILIO_MESSAGING_SERVICE_SID": SERVICE_SID,
        "TWILIO_API_BASE": base_url,
    }


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _dispatch(channel: str, workers: int, directory: Path, profile: bool) -> dict:
    """Run `workers` dispatcher processes against the fake provider from a common start; return figures."""
    fake, provider_settings = _fake(channel, directory)
    environment = {
        **os.environ,
        **provider_settings,
        "DEBUG": "0",  # a real worker: no query log
        **{name: os.environ.get(name, value) for name, value in BENCH_KEYS.items()},
        "LOG_LEVEL": os.environ.get("BENCH_WORKER_LOG_LEVEL", "INFO"),  # the per-send log line is real work
        "BENCH_PROVIDER": PROVIDER[channel],
    }
    processes = []
    try:
        for index in range(workers):
            extra = {"BENCH_PROFILE": str(directory / f"{channel}.prof.txt")} if profile and index == 0 else {}
            processes.append(
                subprocess.Popen(
                    [sys.executable, __file__, "--worker"],
                    cwd=ROOT,
                    env={**environment, **extra},
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=(directory / f"{channel}-worker-{index}.log").open("w"),
                    text=True,
                )
            )
        for process in processes:
            if process.stdout.readline().strip() != "ready":
                raise SystemExit(f"a worker failed to start, see {directory}")
        started = time.time()
        for process in processes:
            process.stdin.write("go\n")
            process.stdin.flush()
        results = []
        for process in processes:
            output, _ = process.communicate()
            if process.returncode:
                raise SystemExit(f"a worker failed ({process.returncode}), see {directory}")
            results.append(json.loads(output.strip().splitlines()[-1]))
        fake_cpu = _cpu_seconds(fake.pid)
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
        fake.terminate()
        fake.wait()
    wall = max(result["finished"] for result in results) - started
    return {"wall": wall, "workers": results, "fake_cpu": fake_cpu}


def _worker() -> None:
    """One dispatcher process: set up, wait for the start signal, dispatch until nothing is due."""
    import resource

    import django

    django.setup()
    from django.db import connection

    from notifications.dispatch import dispatch
    from samia.providers import registry

    connection.ensure_connection()
    registry.get(os.environ["BENCH_PROVIDER"]).require()
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=200_000)
    parser.add_argument("--due", type=int, default=20_000, help="sends made due now, per channel")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--channel", choices=("sms", "push", "both"), default="both")
    parser.add_argument("--skip-seed", action="store_true", help="Reuse the users already seeded.")
    parser.add_argument("--profile", action="store_true", help="cProfile the first dispatch worker.")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE the schedule INSERT.")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.worker:
        return _worker()

    command = shlex.join([".venv/bin/python", "bench/campaign.py", *sys.argv[1:]])
    channels = ("sms", "push") if options.channel == "both" else (options.channel,)
    world.prepare(DATABASE_URL)
    import django

    django.setup()
    from django.db import connection

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
    admin = world.admin()
    admin_identity = Identity(admin.pk, "admin")
    capture = world.Capture()
    schedule, dispatched = {}, {}
    for channel in channels:
        campaign = world.campaign_create(admin_identity, channel, f"bench {channel}")
        with connection.execute_wrapper(capture):
            first = world.schedule(admin_identity, campaign.pk, as_admin=True)
        again = world.schedule(admin_identity, campaign.pk, as_admin=True)
        service_campaign = world.campaign_create(admin_identity, channel, f"bench {channel} (service role)")
        service = world.schedule("system:bench", service_campaign.pk, as_admin=False)
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM notifications_send WHERE campaign_id = %s", [service_campaign.pk])
        schedule[channel] = {"admin": first, "again": again, "service": service}
        print(
            f"{channel}: scheduled {first[1]:,} sends in {first[0]:.2f} s as admin, {service[0]:.2f} s as the "
            f"service role; again: {again[1]} rows in {again[0]:.2f} s"
        )
        if options.explain or first[0] > SCHEDULE_GOAL:
            world.explain(capture, admin_identity, channel)
        with connection.cursor() as cursor:
            due = world.make_due(cursor, campaign.pk, options.due, daytime_only=channel == "sms")
        print(f"{channel}: {due:,} sends due now, dispatching with {options.workers} workers ...")
        with tempfile.TemporaryDirectory(prefix="bench-campaign-") as directory:
            figures = _dispatch(channel, options.workers, Path(directory), options.profile)
            with connection.cursor() as cursor:
                figures["states"] = world.states(cursor, campaign.pk)
            figures["due"] = due
            sent = figures["states"].get("sent", 0)
            figures["rate"] = sent / figures["wall"]
            if options.profile or figures["rate"] < DISPATCH_GOAL:
                profile = Path(directory) / f"{channel}.prof.txt"
                if not profile.exists():  # profile one more run on the next due sends
                    with connection.cursor() as cursor:
                        world.make_due(cursor, campaign.pk, min(options.due, 4000), daytime_only=channel == "sms")
                    _dispatch(channel, options.workers, Path(directory), True)
                print(f"\ncProfile of one {channel} worker (by own time):")
                print("\n".join(f"  {line}" for line in profile.read_text().splitlines()))
        dispatched[channel] = figures
        print(f"{channel}: states {figures['states']}")

    print(f"\n$ {command}")
    print(f"{seeded:,} users, {len(world.ZONES)} zones, {options.workers} dispatch workers\n")
    print(f"{'figure':<46} {'value':>12}  goal")
    for channel, (first, again, service) in ((c, tuple(f.values())) for c, f in schedule.items()):
        print(f"{channel} schedule, bound as admin (s)".ljust(46), f"{first[0]:>12.2f}  <= {SCHEDULE_GOAL:.0f} s")
        print(f"{channel} schedule, rows created".ljust(46), f"{first[1]:>12,}")
        print(f"{channel} schedule, service role (s)".ljust(46), f"{service[0]:>12.2f}  <= {SCHEDULE_GOAL:.0f} s")
        print(f"{channel} schedule again (s)".ljust(46), f"{again[0]:>12.2f}")
        print(f"{channel} schedule again, rows created".ljust(46), f"{again[1]:>12,}  0")
    for channel, figures in dispatched.items():
        sent = figures["states"].get("sent", 0)
        label = f"{channel} dispatch, {sent:,}/{figures['due']:,} sent in {figures['wall']:.1f} s (sends/s)"
        print(label.ljust(46), f"{figures['rate']:>12.0f}  >= {DISPATCH_GOAL:.0f}/s")
        for index, worker in enumerate(figures["workers"]):
            print(
                f"  worker {index}: peak RSS {worker['peak_rss_mb']:.0f} MB, CPU {worker['cpu']:.1f} s, "
                f"{worker['report']}"
            )
        print(f"  fake provider CPU {figures['fake_cpu']:.1f} s")
    missed = [c for c, f in schedule.items() if f["admin"][0] > SCHEDULE_GOAL or f["again"][1]]
    missed += [c for c, f in dispatched.items() if f["rate"] < DISPATCH_GOAL]
    if missed:
        print(f"\nbelow a goal: {', '.join(sorted(set(missed)))}")


if __name__ == "__main__":
    main()
