import datetime as dt

import pytest
from django.utils import timezone

from moderation import appeals, services
from moderation.models import Appeal, Case, ModerationAction
from moderation.retention import retention_purge
from samia.audit.models import AuditEntry
from tests.moderation.conftest import identity

pytestmark = pytest.mark.django_db

LONG_AGO = timezone.now() - dt.timedelta(days=800)


def _close_case(personas, action):
    services.user_unblock(
        identity=identity(personas["admin"]), user_id=action.subject_id, reason_code="other", evidence=[]
    )
    services.case_resolve(identity=identity(personas["admin"]), case_id=action.case_id, note="Handled.")


def _backdate(case_id):
    Case.objects.filter(pk=case_id).update(opened_at=LONG_AGO, resolved_at=LONG_AGO)
    ModerationAction.objects.filter(case_id=case_id).update(created_at=LONG_AGO, lifted_at=LONG_AGO)
    Appeal.objects.filter(action__case_id=case_id).update(opened_at=LONG_AGO, decided_at=LONG_AGO)


def test_it_purges_a_case_wholly_past_its_window_and_records_it(personas, blocked):
    _close_case(personas, blocked)
    _backdate(blocked.case_id)
    actions = ModerationAction.objects.filter(case_id=blocked.case_id).count()

    counts = retention_purge()

    assert actions >= 1
    assert counts == {"lineage_edges": 0, "appeals": 0, "actions": actions, "cases": 1}
    assert not Case.objects.filter(pk=blocked.case_id).exists()
    assert not ModerationAction.objects.filter(case_id=blocked.case_id).exists()
    entry = AuditEntry.objects.get(action="moderation.retention.purge")
    assert (entry.actor_role, entry.details["cases"], entry.details["actions"]) == (
        "system:moderation_retention",
        1,
        actions,
    )


def test_it_keeps_a_case_whose_restriction_is_still_in_force(personas, blocked):
    services.case_resolve(identity=identity(personas["admin"]), case_id=blocked.case_id, note="Blocked for good.")
    Case.objects.filter(pk=blocked.case_id).update(resolved_at=LONG_AGO)

    assert retention_purge()["cases"] == 0
    assert Case.objects.filter(pk=blocked.case_id).exists()


def test_it_keeps_a_case_whose_appeal_was_decided_inside_the_window(personas, blocked):
    appeal = appeals.appeal_open(identity=identity(personas["monitor"]), action_id=blocked.pk)
    appeals.appeal_resolve(
        identity=identity(personas["admin"]), appeal_id=appeal.pk, decision="overturn", rationale="Mistaken identity."
    )
    services.case_resolve(identity=identity(personas["admin"]), case_id=blocked.case_id, note="Overturned.")
    _backdate(blocked.case_id)
    Appeal.objects.filter(pk=appeal.pk).update(decided_at=timezone.now() - dt.timedelta(days=10))

    assert retention_purge()["cases"] == 0

    Appeal.objects.filter(pk=appeal.pk).update(decided_at=LONG_AGO)
    assert retention_purge() == {"lineage_edges": 0, "appeals": 1, "actions": 1, "cases": 1}


def test_it_keeps_recent_and_unresolved_cases(personas, blocked):
    _close_case(personas, blocked)

    assert retention_purge()["cases"] == 0


def test_the_purge_is_scheduled_daily():
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(name="moderation.retention_purge")

    assert (task.task, task.crontab.hour, task.crontab.minute) == ("moderation.retention_purge", "4", "45")
