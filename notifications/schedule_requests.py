"""A campaign schedule asked for by a web request (API, back office): planned now, or queued as a job.

From NOTIFICATIONS_SCHEDULE_JOB_USERS users a schedule may outlast the request (gunicorn ends one
after 30 s, and nothing of it would commit). The request then checks it as it would plan it,
records it and queues `notifications.schedule_campaign` with a signed order; the job plans it bound
as the same user, whose rights it reads again (NOTIFICATIONS_README.md, "Campaigns").
"""

from __future__ import annotations

import contextlib
import logging

from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied
from redis.exceptions import LockError, RedisError

from notifications import planning, policies, ranges
from notifications.models import Campaign
from samia import audit
from samia.accounts.models import User
from samia.exceptions import Conflict, Unavailable
from samia.logging import continuing, current_request_id
from samia.redis import get_redis, key
from samia.rls.binding import bound
from samia.rls.registry import Identity

logger = logging.getLogger(__name__)

# A queued schedule's order: which campaign, for whom, signed (SECRET_KEY) when the request queued it.
# The job plans nothing on an order it cannot verify: beat's back office can start any task with any
# arguments, and a user id alone would let whoever does act in an admin's name. Celery logs and
# monitors show a placeholder instead (argsrepr), and an order is good for two hours: the hour its
# job may wait for its turn, and margin.
ORDER_SALT = "notifications.schedule_campaign"
ORDER_MAX_AGE_SECONDS = 2 * 3600
ORDER_SHOWN_AS = "('<signed schedule order>',)"
# Who has a job queued for a campaign: a Redis set of user ids per campaign. While someone's job is
# queued, their further requests queue nothing (each would plan nothing, after a full pass over the
# users); a request by someone else still queues theirs (the first may be refused, its requester
# deactivated). The job takes its requester out when it ends; the set lapses an hour after the
# last request, should a job never run. The back office shows the campaign as being scheduled while
# the set holds anyone.
QUEUED_MARK_SECONDS = 3600


def schedule_order(campaign_id: int, user_id: int) -> str:
    """The signed order; it carries the request's id, so the job's audit entries sit under it."""
    order = {"campaign": campaign_id, "user": user_id, "request": current_request_id()}
    return signing.dumps(order, salt=ORDER_SALT)


def _queued_mark(campaign_id: int) -> str:
    return key(f"notifications:schedule-queued:{campaign_id}")


def queued_for(campaign_id: int, user_id: int | None) -> bool:
    """Whether this person's schedule of this campaign waits in the queue or runs now."""
    if user_id is None:
        return False
    try:
        return bool(get_redis().sismember(_queued_mark(campaign_id), user_id))
    except RedisError:
        return False


def being_scheduled(campaign_id: int) -> bool:
    """Whether anyone's schedule of this campaign waits in the queue or runs now."""
    try:
        return bool(get_redis().scard(_queued_mark(campaign_id)))
    except RedisError:
        return False


def _publish(order: str) -> None:
    from notifications.tasks import schedule_campaign  # tasks import this module

    schedule_campaign.apply_async((order,), argsrepr=ORDER_SHOWN_AS)


def _queue_schedule(campaign_id: int, user_id: int) -> bool:
    """Queue this person's job for the campaign unless it is queued already; say whether it was.

    It runs inside the request's transaction, which holds the campaign's row until it commits: the
    job, if it starts first, waits for that. The broker unreachable refuses the request (503), which
    then rolls back and leaves nothing behind.
    """
    mark = _queued_mark(campaign_id)
    try:
        with get_redis().pipeline() as pipe:
            fresh, _ = pipe.sadd(mark, user_id).expire(mark, QUEUED_MARK_SECONDS).execute()
    except RedisError:
        fresh = True  # a second job would plan nothing: queue rather than drop
    if not fresh:
        return False
    try:
        _publish(schedule_order(campaign_id, user_id))
    except Exception as error:
        with contextlib.suppress(RedisError):
            get_redis().srem(mark, user_id)
        logger.warning(
            "campaign schedule not queued", extra={"campaign_id": campaign_id, "reason": type(error).__name__}
        )
        raise Unavailable("The job queue is not answering: nothing was scheduled. Try again shortly.") from None
    return True


def campaign_schedule_request(*, identity: Identity, campaign_id: int) -> tuple[Campaign, int | None]:
    """Schedule a campaign for a web request (API, back office): now, or queued as a job when large.

    From NOTIFICATIONS_SCHEDULE_JOB_USERS users a schedule may outlast the request (gunicorn ends
    one after 30 s, and nothing of it would commit), so it is checked here as it would be there
    (the campaign is the caller's to schedule and in a state that can be), recorded, and queued:
    the job `notifications.schedule_campaign` plans it bound as the same user, whose rights are
    read again when it runs. Returns (campaign, None) then; otherwise what campaign_schedule returns.
    Either way a campaign being scheduled right now is refused at once (409), not waited for.
    """
    threshold = settings.NOTIFICATIONS_SCHEDULE_JOB_USERS
    if threshold > 0 and ranges.users_estimate() < threshold:
        return planning.campaign_schedule(identity=identity, campaign_id=campaign_id, wait=False)
    campaign = planning.schedulable(identity, campaign_id, wait=False)
    audit.record(
        action="notifications.campaign.schedule_queued",
        actor=identity,
        target=campaign,
        details={"from_status": campaign.status},
    )
    _queue_schedule(campaign.pk, identity.user_id)
    return campaign, None


def _refused(campaign_id: int | None, user_id: int | None, reason: str) -> dict:
    """A job that plans nothing says why: in the log, and in the audit trail as the job."""
    logger.warning("campaign schedule refused", extra={"campaign_id": campaign_id, "reason": reason})
    audit.record(
        action="notifications.campaign.schedule",
        actor="system:notifications.schedule_campaign",
        target=("notifications.campaign", campaign_id) if campaign_id else None,
        outcome="denied",
        details={"reason": reason, "requested_by": user_id},
    )
    return {"campaign": campaign_id, "refused": reason}


# One large schedule at a time across the workers: two at once would take both of a worker's slots
# (and the database's cores) for tens of seconds, and the dispatcher's runs would wait behind them.
# Another job finding this taken asks Celery to run it again later; the lock lapses if its holder dies.
RUNNING_LOCK = "notifications:schedule-running"
RUNNING_LOCK_SECONDS = 900
BUSY_RETRY_SECONDS = 15


def campaign_schedule_job(order: str) -> dict | None:
    """Run a schedule queued by campaign_schedule_request, bound as the user who asked; None when
    another schedule runs now (the task is retried later).

    The order must carry the request's signature and be at most two hours old. The user is looked up
    again: deactivated or blocked since, or no longer allowed to schedule (a role changed), and
    the campaign is left as it is. A refusal ends the job with its reason (logged and audited); a
    failure rolls back everything the schedule did (the campaign stays a draft and can be
    scheduled again) and is raised for Celery to log.
    """
    try:
        found = signing.loads(order, salt=ORDER_SALT, max_age=ORDER_MAX_AGE_SECONDS)
        campaign_id, user_id = int(found["campaign"]), int(found["user"])
    except signing.SignatureExpired:
        return _refused(None, None, "order_expired")
    except (signing.BadSignature, TypeError, KeyError, ValueError):
        return _refused(None, None, "order_unsigned")
    running = get_redis().lock(key(RUNNING_LOCK), timeout=RUNNING_LOCK_SECONDS)
    try:
        if not running.acquire(blocking=False):
            return None  # still queued: its mark stays, and the task runs again later
    except RedisError:
        _clear_mark(campaign_id, user_id)
        raise
    try:
        with continuing(found.get("request")):
            return _run_queued(campaign_id, user_id)
    finally:
        _clear_mark(campaign_id, user_id)
        with contextlib.suppress(RedisError, LockError):  # lapsed meanwhile: nothing to release
            running.release()


def _clear_mark(campaign_id: int, user_id: int) -> None:
    with contextlib.suppress(RedisError):
        get_redis().srem(_queued_mark(campaign_id), user_id)


def _run_queued(campaign_id: int, user_id: int) -> dict:
    user = User.objects.filter(pk=user_id).first()
    identity = Identity.of(user)
    # Who could still make that request (logged in, or able to), with what the API's route and the
    # back office's button require (policies.SENDS, insert), read now.
    reason = None if user is not None and user.can_log_in else "requester_inactive"
    if reason is None and identity.persona not in policies.SENDS.roles_for("insert"):
        reason = "not_allowed"
    if reason:
        return _refused(campaign_id, user_id, reason)
    try:
        with bound(identity):
            campaign, created = planning.campaign_schedule(identity=identity, campaign_id=campaign_id)
    except (Campaign.DoesNotExist, Conflict, PermissionDenied) as error:
        return _refused(campaign_id, user_id, str(getattr(error, "code", None) or type(error).__name__)[:40])
    return {"campaign": campaign_id, "created": created, "planned": campaign.planned_count}
