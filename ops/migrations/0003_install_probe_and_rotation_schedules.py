from django.db import migrations

PROBE = "ops.providers_probe"
ROTATE = "ops.secrets_rotate_due"


def install(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_minute, _ = IntervalSchedule.objects.get_or_create(every=1, period="minutes")
    daily, _ = CrontabSchedule.objects.get_or_create(
        minute="17", hour="3", day_of_week="*", day_of_month="*", month_of_year="*", timezone="UTC"
    )
    PeriodicTask.objects.update_or_create(name=PROBE, defaults={"task": PROBE, "interval": every_minute, "enabled": True})
    PeriodicTask.objects.update_or_create(name=ROTATE, defaults={"task": ROTATE, "crontab": daily, "enabled": True})


def uninstall(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name__in=[PROBE, ROTATE]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("ops", "0002_rls_policies"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(install, uninstall)]
