from django.db import migrations

REASONS = [
    ("harassment", "Harassment", "high"),
    ("abuse", "Abusive behaviour", "high"),
    ("fraud", "Fraud", "critical"),
    ("copyright", "Copyright infringement", "medium"),
    ("safety", "Safety risk", "critical"),
    ("spam", "Spam or bulk orders", "low"),
    ("impersonation", "Impersonation", "high"),
    ("payment_abuse", "Payment abuse", "high"),
    ("call_abuse", "Call abuse", "medium"),
    ("other", "Other", "low"),
]


def seed(apps, schema_editor):
    ReasonCode = apps.get_model("moderation", "ReasonCode")
    for code, label, severity in REASONS:
        ReasonCode.objects.get_or_create(code=code, defaults={"label": label, "severity": severity})


def unseed(apps, schema_editor):
    apps.get_model("moderation", "ReasonCode").objects.filter(code__in=[r[0] for r in REASONS]).delete()


class Migration(migrations.Migration):
    dependencies = [("moderation", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
