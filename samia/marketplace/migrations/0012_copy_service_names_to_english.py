from django.db import migrations
from django.db.models import F


def forwards(apps, schema_editor):
    apps.get_model("marketplace", "Service").objects.filter(name_en__isnull=True).update(name_en=F("name"))


def backwards(apps, schema_editor):
    apps.get_model("marketplace", "Service").objects.update(name_en=None)


class Migration(migrations.Migration):
    dependencies = [("marketplace", "0011_service_name_translations")]

    operations = [migrations.RunPython(forwards, backwards)]
