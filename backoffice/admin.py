"""Celery Beat's schedule pages in the back office's theme, with permissions from the declarations.

django_celery_beat registers stock ModelAdmins; unfold documents re-registering them on its
ModelAdmin. Here they become `DeclaredModelAdmin`s: admins read them (samia/jobs/policies.py), and
only superadmins add, change, delete, enable or run tasks (`write_roles`). An app that has
registered its own `DeclaredModelAdmin` for one of these models keeps it.
"""

from django.contrib import admin
from django_celery_beat import admin as beat
from django_celery_beat.models import ClockedSchedule, CrontabSchedule, IntervalSchedule, PeriodicTask, SolarSchedule

from samia.rls.admin import DeclaredModelAdmin

SUPERADMINS = frozenset({"superadmin"})


class PeriodicTaskAdmin(beat.PeriodicTaskAdmin, DeclaredModelAdmin):
    write_roles = SUPERADMINS

    def get_actions(self, request):
        # enable/disable/toggle/run change the schedule or start work: writers only
        return super().get_actions(request) if self.has_change_permission(request) else {}


def _schedule_admin(stock):
    return type(stock.__name__, (stock, DeclaredModelAdmin), {"write_roles": SUPERADMINS})


RESTYLED = {
    PeriodicTask: PeriodicTaskAdmin,
    ClockedSchedule: _schedule_admin(beat.ClockedScheduleAdmin),
    CrontabSchedule: _schedule_admin(beat.CrontabScheduleAdmin),
    SolarSchedule: _schedule_admin(beat.SolarScheduleAdmin),
    IntervalSchedule: _schedule_admin(beat.IntervalScheduleAdmin),
}

for model, model_admin in RESTYLED.items():
    if isinstance(admin.site._registry.get(model), DeclaredModelAdmin):
        continue
    if admin.site.is_registered(model):
        admin.site.unregister(model)
    admin.site.register(model, model_admin)
