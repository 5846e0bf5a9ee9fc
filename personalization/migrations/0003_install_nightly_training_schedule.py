from django.conf import settings
from django.db import migrations

TASK = "personalization.train_nightly"


def install(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    # 01:30 in the business timezone: after the analytics rollup (00:30), yesterday complete.
    nightly, _ = CrontabSchedule.objects.get_or_create(
        minute="30",
        hour="1",
        day_of_week="*",
        day_of_month="*",
        month_of_year="*",
        timezone=getattr(settings, "ANALYTICS_TIMEZONE", "Asia/Riyadh"),
    )
    PeriodicTask.objects.update_or_create(
        name=TASK, defaults={"task": TASK, "crontab": nightly, "interval": None, "enabled": True}
    )


def uninstall(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("personalization", "0002_rls_policies"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(install, uninstall)]
