"""The filing job: each pending comment and each flag on its thread's case, once; installed every minute."""

import pytest

from community import jobs
from community.models import Comment, CommunityFlag
from moderation.models import Case
from samia.audit.models import AuditEntry
from tests.community.conftest import comment

pytestmark = pytest.mark.django_db


def test_it_files_each_pending_comment_once_on_one_case_per_thread(personas, thread, community_on):
    later = comment(thread["mine"], personas["reader"])

    first = jobs.cases_file()
    again = jobs.cases_file()

    assert (first, again) == ({"comments": 3, "flags": 0}, {"comments": 0, "flags": 0})
    mine = Case.objects.get(order=thread["mine"], source="community")
    assert set(Comment.objects.filter(order=thread["mine"], status="pending").values_list("case_id", flat=True)) == {
        mine.pk
    }
    assert Comment.objects.get(pk=later.pk).case_id == mine.pk
    assert (
        AuditEntry.objects.filter(action="moderation.case.open", actor_role="system:community.file_cases").count() == 2
    )


def test_it_raises_the_case_to_the_flag_reasons_severity(personas, thread, community_on):
    import datetime as dt

    from django.utils import timezone

    from moderation.models import ReasonCode

    jobs.cases_file()
    target = thread["comments"]["client_approved"]
    CommunityFlag.objects.create(
        reporter=personas["reader"], comment=target, reason=ReasonCode.objects.get(code="fraud")
    )

    assert jobs.cases_file() == {"comments": 0, "flags": 1}
    case = Case.objects.get(order=thread["mine"], source="community")
    assert case.priority == "critical"
    assert case.sla_due_at <= timezone.now() + dt.timedelta(hours=2)
    assert CommunityFlag.objects.get().case_id == case.pk


def test_it_is_installed_to_run_every_minute():
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(name="community.file_cases")

    assert (task.task, task.enabled, task.interval.every, task.interval.period) == (
        "community.file_cases",
        True,
        1,
        "minutes",
    )
