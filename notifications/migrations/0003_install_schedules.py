from django.db import migrations

# (task, every, period): the dispatcher ticks often and claims only due sends; the inbox job is
# the safety net behind the on-commit processing of each webhook.
SCHEDULES = (
    ("notifications.dispatch", 10, "seconds"),
    ("notifications.process_inbox", 1, "minutes"),
    ("notifications.plan_zodiac", 15, "minutes"),
    ("notifications.purge_inbox", 1, "days"),
)


def install(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for task, every, period in SCHEDULES:
        interval, _ = IntervalSchedule.objects.get_or_create(every=every, period=period)
        PeriodicTask.objects.update_or_create(name=task, defaults={"task": task, "interval": interval, "enabled": True})


def uninstall(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name__in=[s[0] for s in SCHEDULES]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0002_send_state_guard_and_device_claim"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(install, uninstall)]
