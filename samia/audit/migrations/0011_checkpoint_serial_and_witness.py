# Checkpoints are numbered and linked (serial, previous_sha256) and remember when the write-once
# witness stored them (witnessed_at). serial is filled for existing checkpoints by 0012 and made
# required by 0013.
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("audit", "0010_partial_chain_indexes")]

    operations = [
        migrations.AddField(
            model_name="auditcheckpoint",
            name="serial",
            field=models.BigIntegerField(null=True),
        ),
        migrations.AddField(
            model_name="auditcheckpoint",
            name="previous_sha256",
            field=models.CharField(blank=True, default="", max_length=64),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="auditcheckpoint",
            name="witnessed_at",
            field=models.DateTimeField(
                blank=True, help_text="When the witness stored it; NULL: not yet.", null=True
            ),
        ),
    ]
