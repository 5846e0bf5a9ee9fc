"""blocks_expire: a block with a duration ends by itself; the job records the expiry once."""

import datetime as dt

import pytest
from django.utils import timezone

from moderation import services
from samia.accounts.models import User
from tests.conftest import api_as
from tests.moderation.conftest import audited, identity

pytestmark = pytest.mark.django_db


def test_a_block_with_a_duration_expires_by_itself_and_the_sweep_records_it(personas):
    # given a one-hour block
    action = services.user_block(
        identity=identity(personas["monitor"]),
        user_id=personas["client"].pk,
        reason_code="spam",
        duration=dt.timedelta(hours=1),
        evidence=[],
    )
    client = api_as(personas["client"])
    assert client.get("/me").status_code == 401

    # when the hour is over (moved back in time as the service role)
    User.objects.filter(pk=personas["client"].pk).update(blocked_until=timezone.now() - dt.timedelta(seconds=1))

    # then the token works again before any job runs, and the job clears and records the expiry once
    assert client.get("/me").status_code == 200
    assert services.blocks_expire() == [personas["client"].pk]
    assert services.blocks_expire() == []
    user = User.objects.get(pk=personas["client"].pk)
    assert (user.blocked_at, user.blocked_until) == (None, None)
    action.refresh_from_db()
    assert action.lift_reason == "expired"
    [entry] = audited("moderation.user.block_expire")
    assert (entry.actor_role, entry.actor_id, entry.details) == (
        "system:moderation.expire_blocks",
        None,
        {"lifted": [action.pk]},
    )


def test_the_expiry_task_is_scheduled_every_five_minutes(db):
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(name="moderation.expire_blocks")

    assert (task.task, task.enabled, task.interval.every, task.interval.period) == (
        "moderation.expire_blocks",
        True,
        5,
        "minutes",
    )
