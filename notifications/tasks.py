"""Notification jobs: the periodic ones installed in Celery Beat by migrations, run as the service
role; schedule_campaign, queued by a request, runs as the admin who made it."""

from celery import shared_task
from django.conf import settings

from notifications import dispatch as dispatcher
from notifications import inbox, planning, schedule_requests


@shared_task(name="notifications.dispatch")
def dispatch() -> dict:
    """Send what is due; every worker may run it at once (claims skip each other's rows)."""
    return dispatcher.dispatch()


@shared_task(name="notifications.schedule_campaign", bind=True, max_retries=240)
def schedule_campaign(self, order: str) -> dict:
    """Plan a large campaign's sends, queued by the API or the back office, bound as the admin who
    asked (the one job here that runs under RLS as a person: it does what that request would). The
    order is the request's signed (campaign, user); an order it cannot verify plans nothing. While
    another schedule runs it waits its turn off the worker (a retry every 15 s, for an hour)."""
    outcome = schedule_requests.campaign_schedule_job(order)
    if outcome is None:
        raise self.retry(countdown=schedule_requests.BUSY_RETRY_SECONDS)
    return outcome


@shared_task(name="notifications.process_inbox")
def process_inbox() -> int:
    """Apply verified webhooks and tracking hits."""
    return inbox.process()


@shared_task(name="notifications.plan_zodiac")
def plan_zodiac() -> int:
    """Plan the daily zodiac push for the timezones whose local send time is near."""
    return planning.zodiac_plan()


@shared_task(name="notifications.plan_order_updates")
def plan_order_updates() -> int:
    """Plan a push to the client or reader of each order that moved since the last run."""
    from notifications.order_updates import order_updates_plan

    return order_updates_plan()


@shared_task(name="notifications.purge_inbox")
def purge_inbox() -> int:
    return inbox.purge(settings.NOTIFICATIONS_INBOX_RETENTION_DAYS)
