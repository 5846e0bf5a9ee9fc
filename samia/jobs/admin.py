"""Celery Beat's schedules in the back office: admins read them; only superadmins add, change, delete,
enable, disable or run tasks. Jobs themselves run as the service role, whoever scheduled them; the one
that runs as a person (notifications.schedule_campaign) plans nothing unless its order carries the
signature of the request that queued it, so starting it here with made-up arguments does nothing."""

from django.contrib import admin
from django.utils.translation import gettext_lazy
from django_celery_beat import admin as beat
from django_celery_beat.models import ClockedSchedule, CrontabSchedule, IntervalSchedule, PeriodicTask, SolarSchedule

from samia.backoffice_timezone import time_column
from samia.rls.admin import DeclaredModelAdmin

# The declaration (samia/jobs/policies.py) lets admins read and write these tables; the back office
# narrows writing to superadmins: a schedule starts work on every worker, and a wrong one is silent.
SCHEDULE_WRITERS = frozenset({"superadmin"})

admin.site.unregister([PeriodicTask, ClockedSchedule, CrontabSchedule, SolarSchedule, IntervalSchedule])


@admin.register(PeriodicTask)
class PeriodicTaskAdmin(beat.PeriodicTaskAdmin, DeclaredModelAdmin):
    write_roles = SCHEDULE_WRITERS
    list_display = ["name", "enabled", "scheduler", "interval", "crontab", "last_run", "total_run_count", "one_off"]
    list_select_related = ["interval", "crontab", "solar", "clocked"]

    last_run = time_column("last_run_at", gettext_lazy("last run"))

    def get_actions(self, request):
        # Enable, disable, toggle and run change the schedule or start work: writers only.
        return super().get_actions(request) if self.has_change_permission(request) else {}


for model, stock in [
    (ClockedSchedule, beat.ClockedScheduleAdmin),
    (CrontabSchedule, beat.CrontabScheduleAdmin),
    (SolarSchedule, beat.SolarScheduleAdmin),
    (IntervalSchedule, beat.IntervalScheduleAdmin),
]:
    admin.site.register(
        model,
        type(stock.__name__, (stock, DeclaredModelAdmin), {"write_roles": SCHEDULE_WRITERS, "__module__": __name__}),
    )
