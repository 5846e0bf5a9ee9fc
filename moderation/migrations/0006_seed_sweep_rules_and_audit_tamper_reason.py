from django.db import migrations

# rule: (window_hours, min_count, max_rate, reason, severity)
RULES = {
    "reject_rate": (168, 10, "0.5000", "fraud", "medium"),
    "refund_loop": (720, 3, None, "payment_abuse", "high"),
    "call_drops": (168, 10, "0.3000", "call_abuse", "medium"),
    "payment_fallback": (24, 5, "0.2000", "payment_abuse", "high"),
    "spam_orders": (1, 10, None, "spam", "low"),
}


def seed(apps, schema_editor):
    ReasonCode = apps.get_model("moderation", "ReasonCode")
    SweepRule = apps.get_model("moderation", "SweepRule")
    ReasonCode.objects.get_or_create(
        code="audit_tamper", defaults={"label": "Audit trail tampered with", "severity": "critical"}
    )
    for rule, (window_hours, min_count, max_rate, reason, severity) in RULES.items():
        SweepRule.objects.get_or_create(
            rule=rule,
            defaults={
                "window_hours": window_hours,
                "min_count": min_count,
                "max_rate": max_rate,
                "reason": ReasonCode.objects.get(code=reason),
                "severity": severity,
            },
        )


def unseed(apps, schema_editor):
    apps.get_model("moderation", "SweepRule").objects.filter(rule__in=RULES).delete()
    apps.get_model("moderation", "ReasonCode").objects.filter(code="audit_tamper").delete()


class Migration(migrations.Migration):
    dependencies = [("moderation", "0005_sweep_rules_lineage_and_scoped_cases")]
    operations = [migrations.RunPython(seed, unseed)]
