from django.db import migrations
from django.db.models import F


def forwards(apps, schema_editor):
    apps.get_model("moderation", "ReasonCode").objects.filter(label_en__isnull=True).update(label_en=F("label"))


def backwards(apps, schema_editor):
    apps.get_model("moderation", "ReasonCode").objects.update(label_en=None)


class Migration(migrations.Migration):
    dependencies = [("moderation", "0017_reason_label_translations")]

    operations = [migrations.RunPython(forwards, backwards)]
