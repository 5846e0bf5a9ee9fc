"""The nightly audit verification opens one critical case a day when the chain is damaged; RLS of the new tables."""

import datetime as dt

import pytest
from django.db import DatabaseError, connection
from django_celery_beat.models import PeriodicTask

from moderation import services, tasks
from moderation.models import Case, LineageEdge, SweepRule
from samia.audit.models import AuditEntry
from samia.rls.binding import bound
from samia.rls.registry import Identity
from tests.audit.conftest import tamper, write
from tests.conftest import rows_as
from tests.moderation.conftest import identity

pytestmark = pytest.mark.django_db

NOBODY = Identity(None, None)


def test_an_intact_chain_opens_nothing():
    write(3)

    assert tasks.verify_audit() is None
    assert not Case.objects.exists()
    assert not AuditEntry.objects.filter(action="moderation.audit.tamper_detected").exists()


def test_a_damaged_chain_opens_one_critical_case_per_day():
    # given a chain whose third row a superuser rewrote
    write(5)
    tamper("UPDATE audit_auditentry SET payload = replace(payload, 'sre', 'srf') WHERE seq = 3")

    # when the nightly job runs twice today, and once tomorrow
    first = tasks.verify_audit()
    again = tasks.verify_audit()
    tomorrow = services.audit_chain_check(day=dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1))

    # then today has one case, tomorrow another, each audited once
    case = Case.objects.get(pk=first)
    assert again == first and tomorrow.pk != first
    assert (case.subject_id, case.scope, case.reason.code, case.priority, case.team, case.source) == (
        None,
        "audit:chain",
        "audit_tamper",
        "critical",
        "admins",
        "sweep",
    )
    assert case.sla_due_at == case.opened_at + dt.timedelta(hours=2)
    assert case.details == {"seq": 3, "kind": "modified", "detail": case.details["detail"], "rows_checked": 3}
    entries = AuditEntry.objects.filter(action="moderation.audit.tamper_detected").order_by("id")
    assert [(e.actor_role, e.target_id, e.details["seq"], e.details["kind"]) for e in entries] == [
        ("system:moderation.verify_audit", str(first), 3, "modified"),
        ("system:moderation.verify_audit", str(tomorrow.pk), 3, "modified"),
    ]


def test_the_audit_verification_is_scheduled_at_02_30_utc():
    schedule = PeriodicTask.objects.get(name="moderation.verify_audit")

    assert (schedule.task, schedule.enabled, schedule.crontab.hour, schedule.crontab.minute) == (
        "moderation.verify_audit",
        True,
        "2",
        "30",
    )


# --- RLS of the new tables -----------------------------------------------------------------------------------------


@pytest.fixture
def edge(personas):
    case = services.user_block(
        identity=identity(personas["monitor"]),
        user_id=personas["client"].pk,
        reason_code="spam",
        duration=None,
        evidence=[],
    ).case
    return LineageEdge.objects.create(case=case, from_type="order", from_id=1, to_type="media", to_id=2)


@pytest.mark.parametrize("table", ["moderation_sweeprule", "moderation_lineageedge"])
@pytest.mark.parametrize("role", [None, "client", "reader", "monitor", "admin", "superadmin"])
def test_only_staff_see_the_new_tables(personas, edge, table, role):
    who = Identity(personas[role].pk, role) if role else NOBODY
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")
        total = cursor.fetchone()[0]

    seen = rows_as(who, f"SELECT count(*) FROM {table}")[0][0]

    assert total > 0
    assert seen == (total if role in ("monitor", "admin", "superadmin") else 0)


@pytest.mark.parametrize(("role", "changed"), [("monitor", 0), ("admin", 1)])
def test_only_admins_change_thresholds_in_postgres(personas, role, changed):
    rule = SweepRule.objects.get(rule="spam_orders")

    updated = rows_as(
        Identity(personas[role].pk, role),
        "UPDATE moderation_sweeprule SET min_count = 2 WHERE id = %s RETURNING id",
        [rule.pk],
    )

    assert len(updated) == changed


def test_nobody_without_an_identity_writes_lineage(personas, edge):
    with pytest.raises(DatabaseError), bound(NOBODY), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO moderation_lineageedge (case_id, from_type, from_id, to_type, to_id) "
            "VALUES (%s, 'order', 1, 'call', 3)",
            [edge.case_id],
        )
