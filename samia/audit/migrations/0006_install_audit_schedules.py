from django.db import migrations

# Times in UTC: the monthly export of the previous month, then the daily retention purge.
SCHEDULES = {
    "samia.audit.export_previous_month": {"minute": "0", "hour": "3", "day_of_month": "1"},
    "samia.audit.retention_purge": {"minute": "0", "hour": "4", "day_of_month": "*"},
}


def install(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, fields in SCHEDULES.items():
        crontab, _ = CrontabSchedule.objects.get_or_create(
            **fields, day_of_week="*", month_of_year="*", timezone="UTC"
        )
        PeriodicTask.objects.update_or_create(
            name=name, defaults={"task": name, "crontab": crontab, "interval": None, "enabled": True}
        )


def uninstall(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name__in=SCHEDULES).delete()


class Migration(migrations.Migration):
    dependencies = [("audit", "0005_audit_row_hashes_function"), ("django_celery_beat", "0019_alter_periodictasks_options")]
    operations = [migrations.RunPython(install, uninstall)]
