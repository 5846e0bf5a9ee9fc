from django.db import migrations

# Times in UTC: the sweeps, then the audit chain verification (after the day's last writes settle).
SCHEDULES = {
    "moderation.run_sweeps": {"minute": "30", "hour": "1"},
    "moderation.verify_audit": {"minute": "30", "hour": "2"},
}


def install(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, fields in SCHEDULES.items():
        crontab, _ = CrontabSchedule.objects.get_or_create(
            **fields, day_of_month="*", day_of_week="*", month_of_year="*", timezone="UTC"
        )
        PeriodicTask.objects.update_or_create(
            name=name, defaults={"task": name, "crontab": crontab, "interval": None, "enabled": True}
        )


def uninstall(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name__in=SCHEDULES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("moderation", "0006_seed_sweep_rules_and_audit_tamper_reason"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(install, uninstall)]
