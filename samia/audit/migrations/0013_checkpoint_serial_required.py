from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("audit", "0012_number_existing_checkpoints")]

    operations = [
        migrations.AlterField(
            model_name="auditcheckpoint",
            name="serial",
            field=models.BigIntegerField(unique=True),
        ),
    ]
