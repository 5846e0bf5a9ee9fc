from django.db import migrations

SWITCHES = ("community", "community_public")


def create(apps, schema_editor):
    Switch = apps.get_model("waffle", "Switch")
    for name in SWITCHES:
        Switch.objects.get_or_create(name=name, defaults={"active": False, "note": "M24 community; off by default."})


def remove(apps, schema_editor):
    apps.get_model("waffle", "Switch").objects.filter(name__in=SWITCHES).delete()


class Migration(migrations.Migration):
    dependencies = [("waffle", "0004_update_everyone_nullbooleanfield")]

    operations = [migrations.RunPython(create, remove)]
