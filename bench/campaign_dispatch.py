"""The dispatch half of bench/campaign.py: fake providers, dispatcher worker processes, what they did.

The fakes (tests/fakes) run in their own processes with a latency distribution (--latency-ms
median, --p99-ms tail) and, for Twilio, the rate limit the workers are configured for, which the
fake enforces and counts. Each worker is a process calling notifications.dispatch.dispatch();
its database connections carry application_name bench-worker-<n> (PGAPPNAME), which a sampler
counts in pg_stat_activity every 100 ms. The kill drill SIGKILLs worker 0 in the middle, waits for its lease
to lapse and runs one more worker to finish: what is left pending is "lost", a number posted twice
to the fake Twilio is an "SMS twice", and `unknown` is compared with the in-flight window.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TWILIO_SID, TWILIO_TOKEN, SERVICE_SID = "AC" + "0" * 32, "bench-twilio-token", "MG" + "1" * 32
# Short, so the kill drill's lapsed claims are reaped soon; longer than PROVIDER_TIMEOUT_SECONDS + 1
# (a claim must outlive a request, or the dispatcher hands the send back untouched).
LEASE_SECONDS = 15
PROVIDER_TIMEOUT_SECONDS = 5


def _start(command: list[str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", *command], cwd=ROOT, stdout=subprocess.PIPE, stderr=log.open("w"), text=True
    )


def fakes(channel: str, directory: Path, options) -> tuple[list[subprocess.Popen], dict, dict]:
    """Start the channel's fakes; return them, the settings pointing at them, and their stats URLs."""
    realism = ["--latency-ms", str(options.latency_ms), "--p99-ms", str(options.p99_ms)]
    realism += ["--error-share", str(options.error_share)]
    if channel == "sms":
        command = ["tests.fakes.twilio", "--port", "0", "--account-sid", TWILIO_SID, "--auth-token", TWILIO_TOKEN]
        limit = ["--rate-limit", str(options.sms_rate), "--burst-seconds", str(options.sms_queue_seconds)]
        process = _start([*command, *realism, *limit], directory / "fake-twilio.log")
        base_url = process.stdout.readline().split()[-1]
        settings = {
            "TWILIO_ACCOUNT_SID": TWILIO_SID,
            "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
            "TWILIO_MESSAGING_SERVICE_SID": SERVICE_SID,
            "TWILIO_API_BASE": base_url,
            "NOTIFICATIONS_RATE_LIMITS": f"fcm=600000/m,twilio:sms={options.sms_rate:g}/s",
        }
        return [process], settings, {"twilio": f"{base_url}/__fake/stats"}
    key_file, ca_file = directory / "service-account.json", directory / "apns-ca.pem"
    fcm = _start(
        ["tests.fakes.fcm", "--port", "0", "--service-account", str(key_file), *realism], directory / "fake-fcm.log"
    )
    fcm_url = fcm.stdout.readline().strip()
    apns = _start(["tests.fakes.apns", "--port", "0", "--ca-out", str(ca_file), *realism], directory / "fake-apns.log")
    apns_port = apns.stdout.readline().split("listening on ")[1].split()[0].rsplit(":", 1)[1]
    from tests.fakes.apns_keys import make_key

    settings = {
        "FCM_PROJECT_ID": "samia-bench",
        "FCM_SERVICE_ACCOUNT_JSON": key_file.read_text(),
        "FCM_END_POINT_BASE": fcm_url,
        "APNS_KEY_PEM": make_key()[0],
        "APNS_KEY_ID": "BENCH12345",
        "APNS_TEAM_ID": "TEAM123456",
        "APNS_TOPIC": "com.samia.bench",
        "APNS_HOST": "127.0.0.1",
        "APNS_PORT": apns_port,
        "APNS_CA_FILE": str(ca_file),
        "NOTIFICATIONS_RATE_LIMITS": "fcm=600000/m",
    }
    return [fcm, apns], settings, {"fcm": f"{fcm_url}/__fake/stats"}


def stats(processes: list[subprocess.Popen], urls: dict) -> dict:
    """Each fake's counts: over HTTP, and the APNs fake's from its last line when it stops."""
    found = {name: json.load(urllib.request.urlopen(url, timeout=5)) for name, url in urls.items()}
    for process in processes:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=10)
        lines = [line for line in output.splitlines() if line.startswith("{")]
        if lines:
            found["apns"] = json.loads(lines[-1])
    return found


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Connections:
    """Counts each worker's database connections in pg_stat_activity while it runs."""

    def __init__(self, database_url: str):
        self.database_url = database_url
        self.peak: dict[str, int] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()

    def _run(self) -> None:
        import psycopg

        with psycopg.connect(self.database_url, autocommit=True) as connection:
            while not self.stop.wait(0.1):
                rows = connection.execute(
                    "SELECT application_name, count(*) FROM pg_stat_activity "
                    "WHERE application_name LIKE 'bench-worker-%%' GROUP BY 1"
                ).fetchall()
                for name, count in rows:
                    self.peak[name] = max(self.peak.get(name, 0), count)


def workers(environment: dict, count: int, directory: Path, first: int = 0) -> list[subprocess.Popen]:
    """Start `count` dispatcher processes; each prints "ready", waits for a line, dispatches, prints figures."""
    started = []
    for index in range(first, first + count):
        env = {**environment, "PGAPPNAME": f"bench-worker-{index}"}
        started.append(
            subprocess.Popen(
                [sys.executable, str(ROOT / "bench" / "campaign.py"), "--worker"],
                cwd=ROOT,
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=(directory / f"worker-{index}.log").open("w"),
                text=True,
            )
        )
    for process in started:
        if process.stdout.readline().strip() != "ready":
            raise SystemExit(f"a worker failed to start, see {directory}")
    return started


def go(processes: list[subprocess.Popen]) -> float:
    started = time.time()
    for process in processes:
        process.stdin.write("go\n")
        process.stdin.flush()
    return started


def finish(process: subprocess.Popen, directory: Path) -> dict:
    output, _ = process.communicate()
    if process.returncode:
        raise SystemExit(f"a worker failed ({process.returncode}), see {directory}")
    return json.loads(output.strip().splitlines()[-1])


def run(channel: str, environment: dict, directory: Path, options, kill_after: float | None) -> dict:
    """Dispatch what is due with options.workers processes; with `kill_after`, the kill drill."""
    processes, provider_settings, urls = fakes(channel, directory, options)
    environment = {
        **environment,
        **provider_settings,
        "NOTIFICATIONS_LEASE_SECONDS": str(LEASE_SECONDS),
        "PROVIDER_TIMEOUT_SECONDS": str(PROVIDER_TIMEOUT_SECONDS),
    }
    figures: dict = {"killed": None}
    try:
        with Connections(environment["DATABASE_URL"]) as connections:
            running = workers(environment, options.workers, directory)
            started = go(running)
            if kill_after is not None:
                time.sleep(kill_after)
                os.kill(running[0].pid, signal.SIGKILL)
                running[0].wait()
                figures["killed"] = time.time() - started
                running = running[1:]
            results = [finish(process, directory) for process in running]
            figures["wall"] = max(result["finished"] for result in results) - started
            if kill_after is not None:  # the dead worker's claims lapse; one more worker finishes
                time.sleep(LEASE_SECONDS + 1)
                (last,) = workers(environment, 1, directory, first=options.workers)
                go([last])
                figures["after_kill"] = finish(last, directory)
        figures["workers"] = results
        figures["connections"] = connections.peak
        figures["fake_cpu"] = sum(cpu_seconds(process.pid) for process in processes)
    finally:
        figures["fakes"] = stats(processes, urls)
    return figures
