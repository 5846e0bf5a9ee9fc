"""Celery Beat's schedule tables: admins manage them in the back office; jobs run as the service role."""

from samia.rls.registry import ADMINS, allow, declare

for model in (
    "PeriodicTask",
    "PeriodicTasks",
    "IntervalSchedule",
    "CrontabSchedule",
    "SolarSchedule",
    "ClockedSchedule",
):
    declare(
        f"django_celery_beat.{model}",
        *(allow(operation, ADMINS) for operation in ("select", "insert", "update", "delete")),
        module=__name__,
    )
