# Existing checkpoints, in the order they were made, get their serial and the sha256 of the
# statement before them. Their signed statements predate both and keep them unsigned;
# audit_verify checks the signed fields a statement carries.
import hashlib

from django.db import migrations


def number(apps, schema_editor):
    AuditCheckpoint = apps.get_model("audit", "AuditCheckpoint")
    previous = ""
    for serial, checkpoint in enumerate(AuditCheckpoint.objects.order_by("id"), start=1):
        AuditCheckpoint.objects.filter(pk=checkpoint.pk).update(serial=serial, previous_sha256=previous)
        previous = hashlib.sha256(checkpoint.statement.encode()).hexdigest()


class Migration(migrations.Migration):
    dependencies = [("audit", "0011_checkpoint_serial_and_witness")]
    operations = [migrations.RunPython(number, migrations.RunPython.noop)]
