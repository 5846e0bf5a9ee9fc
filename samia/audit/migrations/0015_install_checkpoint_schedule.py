from django.db import migrations

# Every minute the job checks whether the head moved and AUDIT_CHECKPOINT_MINUTES passed since the
# last checkpoint (so the interval is a setting, not a migration), and writes to the witness every
# checkpoint it has not stored yet.
NAME = "samia.audit.checkpoint_head"


def install(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_minute, _ = IntervalSchedule.objects.get_or_create(every=1, period="minutes")
    PeriodicTask.objects.update_or_create(
        name=NAME, defaults={"task": NAME, "interval": every_minute, "crontab": None, "enabled": True, "expire_seconds": 50},
    )


def uninstall(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("audit", "0014_checkpoint_append_only"), ("django_celery_beat", "0019_alter_periodictasks_options")]
    operations = [migrations.RunPython(install, uninstall)]
