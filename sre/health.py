"""The health overview: every check as pass, warn or fail, in the application/health+json shape.

It runs in an admin's request, under RLS: what it reads (Beat's schedule, audit exports, budgets,
backups, drills) admins may read. Checks report, they never raise; the overall status is the worst.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable

from django.conf import settings
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from samia.audit.models import AuditExport
from samia.health.checks import CHECKS
from samia.providers import registry
from samia.rls.registry import Identity
from sre import budgets, signals
from sre.models import Backup, RestoreDrill

PASS, WARN, FAIL = "pass", "warn", "fail"
ORDER = {PASS: 0, WARN: 1, FAIL: 2}
# Beat may start a task this late before the overview calls it late.
BEAT_GRACE = dt.timedelta(minutes=2)


def _check(status: str, value=None, unit: str = "", output: str = "", time: dt.datetime | None = None) -> dict:
    check = {"status": status}
    if value is not None:
        check["observedValue"] = value
    if unit:
        check["observedUnit"] = unit
    if output:
        check["output"] = output
    if time is not None:
        check["time"] = time.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    return check


# Loading the migration graph costs ~50-100 ms; an overview refreshed every few seconds reuses its
# answer for this long (a deploy restarts the processes anyway).
SLOW_CHECKS_SECONDS = {"migrations": 60.0}
_slow_answers: dict[str, tuple[float, str]] = {}


def _ready(name: str, check) -> str:
    ttl = SLOW_CHECKS_SECONDS.get(name)
    if ttl is not None and (cached := _slow_answers.get(name)) and time.monotonic() < cached[0]:
        return cached[1]
    try:
        value = check()
    except Exception as error:  # a probe reports failures, it does not raise them
        value = f"unavailable ({type(error).__name__})"
    if ttl is not None:
        _slow_answers[name] = (time.monotonic() + ttl, value)
    return value


def _readiness(now, identity) -> dict[str, list[dict]]:
    results = {name: _ready(name, check) for name, check in CHECKS.items()}
    return {f"{name}:ready": [_check(PASS if value == "ok" else FAIL, output=value)] for name, value in results.items()}


def _heartbeat(now, identity) -> dict[str, list[dict]]:
    age = signals.heartbeat_age(now)
    if age is None:
        return {"worker:heartbeat": [_check(FAIL, output="no heartbeat")]}
    status = (
        FAIL
        if age >= settings.SRE_HEARTBEAT_FAIL_SECONDS
        else WARN
        if age >= settings.SRE_HEARTBEAT_WARN_SECONDS
        else PASS
    )
    return {"worker:heartbeat": [_check(status, round(age), "s")]}


def beat_lateness(task: PeriodicTask, now: dt.datetime) -> dt.timedelta | None:
    """How late `task` is against its schedule (None: never ran, or on time)."""
    if task.last_run_at is None:
        return None
    remaining = task.schedule.remaining_estimate(task.last_run_at)
    late = -remaining if remaining.total_seconds() < 0 else dt.timedelta(0)
    return late if late > BEAT_GRACE else dt.timedelta(0)


def _beat(now, identity) -> dict[str, list[dict]]:
    checks = []
    for task in PeriodicTask.objects.filter(enabled=True).select_related("interval", "crontab").order_by("name"):
        if task.interval is None and task.crontab is None:
            continue  # one-off (clocked or solar) schedules have no rhythm to be late against
        late = beat_lateness(task, now)
        if late is None:
            checks.append(_check(WARN, output=f"{task.name}: never ran"))
        elif late:
            checks.append(_check(WARN, round(late.total_seconds()), "s", f"{task.name}: late", task.last_run_at))
        else:
            checks.append(_check(PASS, output=task.name, time=task.last_run_at))
    return {"beat:last_run": checks}


def _queue(now, identity) -> dict[str, list[dict]]:
    checks = []
    for queue, length in signals.queue_lengths().items():
        status = FAIL if length >= settings.SRE_QUEUE_FAIL else WARN if length >= settings.SRE_QUEUE_WARN else PASS
        checks.append(_check(status, length, "tasks", queue))
    backlog = signals.due_backlog()
    if backlog is not None:
        status = FAIL if backlog >= settings.SRE_QUEUE_FAIL else WARN if backlog >= settings.SRE_QUEUE_WARN else PASS
        checks.append(_check(status, backlog, "sends", "notifications due"))
    return {"queue:depth": checks}


def _providers(now, identity) -> dict[str, list[dict]]:
    checks = []
    for name in sorted(settings.PROVIDERS):
        state = registry.breaker(name).state
        status = FAIL if state == "open" else WARN if state == "half-open" else PASS
        checks.append(_check(status, output=f"{name}: circuit {state}"))
    return {"providers:circuit": checks}


def _budgets(now, identity) -> dict[str, list[dict]]:
    statuses = {"ok": PASS, "warning": WARN, "at_risk": WARN, "exceeded": FAIL}
    return {
        "budgets:usage": [
            _check(statuses[state.state], state.percent, "%", f"{state.metric}: {state.state}")
            for state in budgets.budget_states(identity=identity, now=now)
        ]
    }


def _audit(now, identity) -> dict[str, list[dict]]:
    verify = PeriodicTask.objects.filter(task="moderation.verify_audit").first()
    last = verify.last_run_at if verify else None
    verified = (
        _check(WARN, output="never verified")
        if last is None
        else _check(WARN if now - last > dt.timedelta(hours=26) else PASS, output="chain verification", time=last)
    )
    last_export = AuditExport.objects.order_by("-month").values_list("month", flat=True).first()
    expected = (now.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
    exported_in_time = last_export is not None and last_export >= expected
    exported = _check(
        PASS if exported_in_time or now.day <= 2 else WARN, last_export or "none", output="last export month"
    )
    return {"audit:verification": [verified], "audit:export": [exported]}


def _backups(now, identity) -> dict[str, list[dict]]:
    backup = Backup.objects.filter(removed_at__isnull=True).order_by("-finished_at").first()
    if backup is None:
        backup_check = _check(WARN, output="no backup")
    else:
        age = (now - backup.finished_at).total_seconds() / 3600
        backup_check = _check(
            WARN if age > settings.SRE_BACKUP_MAX_AGE_HOURS else PASS, round(age, 1), "h", time=backup.finished_at
        )
    drill = RestoreDrill.objects.order_by("-started_at").first()
    if drill is None:
        drill_check = _check(WARN, output="no restore drill")
    elif drill.result == RestoreDrill.Result.FAILED:
        drill_check = _check(FAIL, output="the last restore drill failed", time=drill.started_at)
    else:
        old = now - drill.started_at > dt.timedelta(days=settings.SRE_RESTORE_DRILL_MAX_AGE_DAYS)
        drill_check = _check(
            WARN if old else PASS, round(drill.duration_seconds), "s", "restore drill", drill.started_at
        )
    return {"backups:age": [backup_check], "backups:restore_drill": [drill_check]}


SECTIONS: list[Callable[[dt.datetime, Identity], dict[str, list[dict]]]] = [
    _readiness,
    _heartbeat,
    _beat,
    _queue,
    _providers,
    _budgets,
    _audit,
    _backups,
]


def health_overview(*, identity: Identity, now: dt.datetime | None = None) -> dict:
    """Return every check and the worst status, as application/health+json."""
    now = now or timezone.now()
    checks: dict[str, list[dict]] = {}
    for section in SECTIONS:
        try:
            checks.update(section(now, identity))
        except Exception as error:  # a check reports what broke, it does not break the overview
            checks[f"{section.__name__.strip('_')}:error"] = [_check(FAIL, output=type(error).__name__)]
    worst = max((c["status"] for entries in checks.values() for c in entries), key=ORDER.__getitem__, default=PASS)
    return {"status": worst, "description": "SAMIA-TAROT health overview", "checks": checks}
