from django.db import migrations

# A dispatch run keeps claiming until nothing is due (up to NOTIFICATIONS_DISPATCH_BUDGET_SECONDS),
# so during a long backlog the 10-second ticks would pile up in the queue behind it. A tick that
# waited longer than this is dropped by the worker instead: the next one comes 10 s later anyway.
TICKS = {"notifications.dispatch": 20, "notifications.process_inbox": 60, "notifications.plan_order_updates": 60}


def install(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, seconds in TICKS.items():
        PeriodicTask.objects.filter(name=name).update(expire_seconds=seconds)


def uninstall(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name__in=TICKS).update(expire_seconds=None)


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0009_send_held"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(install, uninstall)]
