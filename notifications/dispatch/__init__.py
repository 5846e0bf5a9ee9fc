"""The dispatcher: claim due sends, check them again, send them, record what happened.

Runs as the service role in a periodic Celery task (several workers may run it at once).

1. Reap: a send whose claim expired (its worker was killed) is retried when it never reached
   the provider; when it may have (`in_flight_since` set), SMS and WhatsApp become `unknown` and
   are not sent again, push is sent again under the same collapse id (the device shows it once).
2. Claim a batch of due sends with FOR UPDATE SKIP LOCKED, mark them queued with a lease, commit.
3. Take rate-limit tokens (shared in Redis by every worker), check consent, suppression, the
   account, the campaign and quiet hours again for a group of sends and mark them in flight (one
   statement, one commit), send them with many requests in flight on one event loop, and record
   the answers set-based. One database connection per worker; no lock is held during a call.

`claims` claims and loads (steps 1-2), `messages` renders what a send says, `limits` meters the
providers, `checks` holds the set-based statements, `delivery` the rules (what may go, what to
ask, what an answer means) and `pipeline` the loop (step 3).
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.db import connection, transaction

from notifications.dispatch.claims import MAX_DEVICES, Work, claim, leases_reap, load
from notifications.dispatch.delivery import Report, backoff_seconds
from notifications.dispatch.messages import ZODIAC_TITLE, _json, render
from notifications.dispatch.pipeline import Pipeline

__all__ = [
    "MAX_DEVICES",
    "ZODIAC_TITLE",
    "Report",
    "Work",
    "_json",
    "backoff_seconds",
    "campaigns_complete",
    "claim",
    "dispatch",
    "leases_reap",
    "load",
    "render",
]

logger = logging.getLogger(__name__)


def dispatch(*, budget_seconds: float | None = None, batch_size: int | None = None) -> dict:
    """Send what is due until nothing is or the time budget is spent; returns the counts."""
    budget = settings.NOTIFICATIONS_DISPATCH_BUDGET_SECONDS if budget_seconds is None else budget_seconds
    report = Report(reaped=leases_reap())
    Pipeline(report, time.monotonic() + budget, batch_size or settings.NOTIFICATIONS_BATCH_SIZE).run()
    campaigns_complete()
    if report.claimed or report.reaped:
        logger.info("notifications dispatched", extra=report.as_dict())
    return report.as_dict()


def campaigns_complete() -> int:
    """Mark scheduled campaigns with nothing left to send as completed."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE notifications_campaign c SET status = 'completed'
            WHERE c.status = 'scheduled' AND NOT EXISTS (
                SELECT 1 FROM notifications_send s WHERE s.campaign_id = c.id AND s.state IN ('planned', 'queued'))
            """
        )
        return cursor.rowcount
