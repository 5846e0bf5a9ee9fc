"""The dispatcher: claim due sends, check them again, send them, record what happened.

Runs as the service role in a periodic Celery task (several workers may run it at once).

1. Reap: a send whose claim expired (its worker was killed) is retried when it never reached
   the provider; when it may have (`in_flight_since` set), SMS and WhatsApp become `unknown` and
   are not sent again, push is sent again under the same collapse id (the device shows it once).
2. Claim a batch of due sends with FOR UPDATE SKIP LOCKED, mark them queued with a lease, commit.
3. For each send, in one short transaction: check consent, suppression and the recipient's
   account again and mark it in flight; commit; call the provider; then record the result
   together with the next send's checks (one commit per send). No lock is held during the call.

`claims` claims and loads (steps 1-2), `messages` renders what a send says, `delivery` checks,
calls the providers (in a pool of sender threads when configured) and records outcomes (step 3).
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.db import connection, transaction

from notifications.dispatch.claims import MAX_DEVICES, Work, claim, leases_reap, load
from notifications.dispatch.delivery import Courier, Report, _deliver_batch, _record, _Senders, backoff_seconds
from notifications.dispatch.messages import ZODIAC_TITLES, _json, render

__all__ = [
    "MAX_DEVICES",
    "ZODIAC_TITLES",
    "Courier",
    "Report",
    "Work",
    "_json",
    "_record",
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
    """Send what is due until nothing is or the time budget is spent; returns the counts.

    With NOTIFICATIONS_SEND_CONCURRENCY > 1, each claimed batch is delivered by that many
    threads (own connections); claims, leases and the per-send commit work the same way.
    """
    budget = settings.NOTIFICATIONS_DISPATCH_BUDGET_SECONDS if budget_seconds is None else budget_seconds
    batch_size = batch_size or settings.NOTIFICATIONS_BATCH_SIZE
    deadline = time.monotonic() + budget
    report = Report(reaped=leases_reap())
    concurrency = settings.NOTIFICATIONS_SEND_CONCURRENCY
    senders = _Senders(concurrency, deadline) if concurrency > 1 else None
    courier = Courier(report)
    try:
        while time.monotonic() < deadline:
            ids = claim(batch_size)
            if not ids:
                break
            report.claimed += len(ids)
            works = load(ids)
            if senders:
                senders.deliver(works)
            else:
                _deliver_batch(works, courier, deadline)
    finally:
        courier.flush()
        if senders:
            senders.close(report)
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
