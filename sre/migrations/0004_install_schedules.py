from django.db import migrations

# task name -> (interval minutes | crontab minute, hour)
EVERY_MINUTE = ["sre.escalate"]
CRONTABS = {"sre.budgets_evaluate": ("5", "*"), "sre.backup_snapshot": ("30", "3")}


def install(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_minute, _ = IntervalSchedule.objects.get_or_create(every=1, period="minutes")
    for task in EVERY_MINUTE:
        PeriodicTask.objects.update_or_create(
            name=task, defaults={"task": task, "interval": every_minute, "enabled": True}
        )
    for task, (minute, hour) in CRONTABS.items():
        crontab, _ = CrontabSchedule.objects.get_or_create(
            minute=minute, hour=hour, day_of_week="*", day_of_month="*", month_of_year="*", timezone="UTC"
        )
        PeriodicTask.objects.update_or_create(name=task, defaults={"task": task, "crontab": crontab, "enabled": True})


def uninstall(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name__in=[*EVERY_MINUTE, *CRONTABS]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("sre", "0003_seed_budgets_escalation_runbooks"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(install, uninstall)]
