from decimal import Decimal

from django.db import migrations

# Starting budgets (admins change them in the back office): units a month and the cost of one unit.
BUDGETS = [
    ("sms", 20000, Decimal("0.0079")),
    ("whatsapp", 20000, Decimal("0.0050")),
    ("push", 2000000, Decimal("0")),
    ("storage_bytes", 100 * 10**9, Decimal("0.000000000023")),
    ("egress_bytes", 500 * 10**9, Decimal("0.000000000090")),
    ("translation_chars", 5 * 10**6, Decimal("0.000020")),
]
# (severity, tier, minutes after declaration without acknowledgement)
STEPS = [
    ("sev1", 1, 0), ("sev1", 2, 5), ("sev1", 3, 15),
    ("sev2", 1, 0), ("sev2", 2, 15), ("sev2", 3, 45),
    ("sev3", 1, 0), ("sev3", 2, 60),
    ("sev4", 1, 0),
]  # fmt: skip
RUNBOOKS = [
    (
        "database-unavailable",
        "database",
        "PostgreSQL does not answer",
        "## Symptoms\n/readyz fails on `database`; 5xx on every route.\n\n"
        "## Check\n1. `pg_isready -d $DATABASE_URL`\n2. Connections: `samia_database_connections` against "
        "`samia_database_connections_max`.\n\n## Act\n1. Restart the server or fail over.\n"
        "2. When data is lost: restore the newest backup (`manage.py restore_drill` proves it restores).\n",
    ),
    (
        "redis-unavailable",
        "redis",
        "Redis does not answer",
        "## Symptoms\nLogins fail, `samia_limiter_unavailable_total` grows, costly writes answer 503 "
        "`limiter_unavailable`.\n\n## Act\n1. `redis-cli ping`.\n2. Restart Redis; reads went on meanwhile.\n",
    ),
    (
        "worker-stalled",
        "worker",
        "Workers or Beat stopped",
        "## Symptoms\nHealth overview warns on heartbeat age or a Beat task late; the queue grows.\n\n"
        "## Act\n1. `celery -A samia inspect ping`.\n2. Restart the worker and beat processes.\n",
    ),
    (
        "budget-exceeded",
        "notifications",
        "A budget reached 100 %",
        "## Symptoms\nMarketing SMS and WhatsApp deferred; AR uploads and translation answer 503 `degraded`.\n\n"
        "## Act\n1. GET /admin/budget: which metric, the forecast.\n2. Raise the limit in the back office "
        "(ends the degraded mode at once) or wait for the new month.\n",
    ),
]


def seed(apps, schema_editor):
    Budget = apps.get_model("sre", "Budget")
    for metric, limit, cost in BUDGETS:
        Budget.objects.get_or_create(metric=metric, defaults={"monthly_limit": limit, "unit_cost": cost})
    EscalationStep = apps.get_model("sre", "EscalationStep")
    for severity, tier, minutes in STEPS:
        EscalationStep.objects.get_or_create(severity=severity, tier=tier, defaults={"after_minutes": minutes})
    Runbook = apps.get_model("sre", "Runbook")
    for slug, component, title, markdown in RUNBOOKS:
        Runbook.objects.get_or_create(
            slug=slug, defaults={"component": component, "title": title, "markdown": markdown}
        )


def unseed(apps, schema_editor):
    apps.get_model("sre", "Budget").objects.filter(metric__in=[b[0] for b in BUDGETS]).delete()
    apps.get_model("sre", "EscalationStep").objects.all().delete()
    apps.get_model("sre", "Runbook").objects.filter(slug__in=[r[0] for r in RUNBOOKS]).delete()


class Migration(migrations.Migration):
    dependencies = [("sre", "0002_rls_policies")]
    operations = [migrations.RunPython(seed, unseed)]
