"""Delivery: check each claimed send again, call its provider, record the outcome.

For each send, in one short transaction: check consent, suppression and the recipient's account
again and mark it in flight; commit; call the provider; then record the result together with the
next send's checks (one commit per send). No lock is held during the call. With more than one
sender, threads (each with its own connection) keep several provider calls in flight.
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, connections, transaction
from django.utils import timezone

from notifications.dispatch.claims import MAX_DEVICES, Work
from notifications.dispatch.messages import text
from notifications.models import Channel, Send, Suppression
from notifications.quiet import in_quiet_hours, next_allowed
from notifications.services import device_deactivate, suppression_add
from samia.providers import gates, registry
from samia.providers.base import Outcome, ProviderUnavailable, Result

# The dispatcher logs under one name, whichever of its modules speaks.
logger = logging.getLogger("notifications.dispatch")
S = Send.State

# Twilio codes that mean the recipient unsubscribed at the carrier or provider level.
UNSUBSCRIBED_CODES = frozenset({"21610"})


@dataclass
class Report:
    """What one dispatch run did, counted per outcome."""

    claimed: int = 0
    sent: int = 0
    retried: int = 0
    deferred: int = 0
    failed: int = 0
    skipped: int = 0
    unknown: int = 0
    reaped: int = 0

    def as_dict(self) -> dict:
        return dict(self.__dict__)


_CHECK_SQL = """
    UPDATE notifications_send s SET in_flight_since = clock_timestamp(), address_hash = %(hash)s,
           encoding = %(encoding)s, segments = %(segments)s
    WHERE s.id = %(id)s AND s.state = 'queued' AND s.lease_until = %(lease)s
    RETURNING
        coalesce((SELECT c.status = 'granted' FROM notifications_consent c
                  WHERE c.user_id = s.user_id AND c.channel = s.channel AND c.purpose = s.purpose
                  ORDER BY c.recorded_at DESC, c.id DESC LIMIT 1), s.purpose = 'transactional'),
        EXISTS (SELECT 1 FROM notifications_suppression x
                WHERE x.channel = s.channel AND x.lifted_at IS NULL
                  AND (x.user_id = s.user_id OR x.address_hash = %(hash)s)),
        (SELECT u.is_active AND u.blocked_at IS NULL FROM accounts_user u WHERE u.id = s.user_id),
        (s.campaign_id IS NULL OR EXISTS (SELECT 1 FROM notifications_campaign c
                                          WHERE c.id = s.campaign_id AND c.status = 'scheduled'))
"""


_SETTLE_COLUMNS = ("last_error", "due_at", "provider", "sandbox", "message_id", "sent_at")


def _settle(work: Work, state: str, *, error: str = "", attempts_back: bool = False, **fields) -> bool:
    """Record a final or next state and release the claim; False when the claim was lost meanwhile.

    One statement; a send that is no longer held by this claim (reaped after a lapsed lease, perhaps
    claimed again by another worker: its lease_until differs) is left alone.
    A `sent` result also appends its notification.sent event in the same statement.
    """
    unknown = set(fields) - set(_SETTLE_COLUMNS)
    if unknown:
        raise ValueError(f"cannot settle {unknown}")
    values = {"last_error": error[:40], **fields}
    assignments = ", ".join(f"{column} = %({column})s" for column in values)
    params = {**values, "id": work.id, "lease": work.lease_until, "state": state}
    changed = "" if state == S.QUEUED else ", state_changed_at = clock_timestamp()"
    back = ", attempts = attempts - 1" if attempts_back else ""
    update = f"""
        UPDATE notifications_send SET state = %(state)s, lease_until = NULL, in_flight_since = NULL,
               {assignments}{changed}{back}
        WHERE id = %(id)s AND state = 'queued' AND lease_until = %(lease)s
        RETURNING id, campaign_id, channel
    """
    if state == S.SENT:
        update = f"""
            WITH settled AS ({update})
            INSERT INTO events_raw (occurred_at, name, version, actor_id, actor_key, subject_type, subject_id, properties)
            SELECT clock_timestamp(), 'notification.sent', 1, NULL, '', 'notifications.send', id,
                   jsonb_strip_nulls(jsonb_build_object('channel', channel, 'campaign_id', campaign_id))
            FROM settled
        """
    with connection.cursor() as cursor:
        cursor.execute(update, params)
        return cursor.rowcount == 1


def _release(work: Work, *, due_at: dt.datetime, error: str = "", count_attempt: bool = False) -> bool:
    """Put a send back to wait until `due_at`; an attempt that never reached a provider is not counted."""
    return _settle(work, S.QUEUED, error=error, due_at=due_at, attempts_back=not count_attempt)


def backoff_seconds(attempts: int, retry_after: int | None = None) -> float:
    """Capped exponential backoff with full jitter, never sooner than the provider asked."""
    cap = min(
        settings.NOTIFICATIONS_BACKOFF_CAP_SECONDS,
        settings.NOTIFICATIONS_BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0),
    )
    delay = random.uniform(0, cap)
    return max(delay, retry_after or 0)


def _prepare(work: Work, now: dt.datetime, report: Report) -> str | None:
    """Check one send right before it goes; settle it and return None when it must not go now."""
    hashed = work.address_hash
    params = {"id": work.id, "lease": work.lease_until, "hash": hashed}
    params.update(encoding=work.encoding, segments=work.segments)  # measured by `load`
    with connection.cursor() as cursor:
        cursor.execute(_CHECK_SQL, params)
        row = cursor.fetchone()
    if row is None:  # cancelled, reaped or settled elsewhere meanwhile
        return None
    consent, suppressed, account_ok, campaign_live = row
    if not campaign_live:  # paused since the claim: wait for a resume
        _release(work, due_at=now)
        report.skipped += 1
        return None
    if now >= work.expires_at:
        _settle(work, S.EXPIRED)
    elif work.attempts > settings.NOTIFICATIONS_MAX_ATTEMPTS:
        # Claimed again and again without a result (e.g. its worker keeps dying): stop.
        _settle(work, S.FAILED, error="too_many_attempts")
    elif not account_ok:
        _settle(work, S.CANCELLED, error="recipient_inactive")
    elif not consent:
        _settle(work, S.OPTED_OUT)
    elif suppressed:
        _settle(work, S.SUPPRESSED)
    elif not work.critical and in_quiet_hours(now, work.zone, work.channel, work.purpose):
        resume = next_allowed(now, work.zone, work.channel, work.purpose)
        if resume < work.expires_at:
            _release(work, due_at=resume, error="quiet_hours")
        else:
            _settle(work, S.SKIPPED_QUIET_HOURS)
    elif not work.message:
        _settle(work, S.CANCELLED, error="content_withdrawn")
    elif work.channel != Channel.PUSH and not work.phone:
        _settle(work, S.FAILED, error="no_address")
    else:
        return hashed
    report.skipped += 1
    return None


def _send_push(work: Work) -> tuple[Result, str, bool]:
    """Send to each of the user's active devices; one accepted push counts as sent."""
    devices = work.devices  # loaded with the batch, moments ago
    if not devices:
        return Result(Outcome.PERMANENT, code="no_device"), "", False
    results, provider_names, sandbox = [], [], False
    message = work.message
    unavailable = None
    for device in devices:
        try:
            provider = registry.get(device.platform)
            provider.require()
        except ProviderUnavailable as error:  # that platform waits; the others still get it
            unavailable = error
            continue
        result = provider.send(
            token=device.token,
            title=message.get("title", ""),
            body=message["body"],
            data=message["data"],
            collapse_id=f"samia-{work.id}",
            ttl_seconds=max(int((work.expires_at - timezone.now()).total_seconds()), 0),
            critical=work.critical,
        )
        sandbox = sandbox or provider.sandbox
        provider_names.append(device.platform)
        if result.outcome is Outcome.INVALID_RECIPIENT:
            unregistered_at = result.details.get("unregistered_at")
            moment = dt.datetime.fromisoformat(unregistered_at) if unregistered_at else None
            if device_deactivate(device, result.code or "invalid_token", unregistered_at=moment):
                suppression_add(
                    channel=Channel.PUSH,
                    reason=Suppression.Reason.INVALID_TOKEN,
                    actor="system:notifications.dispatch",
                    address=device.token,
                    note=result.code[:40],
                )
        results.append(result)
    sent = [r for r in results if r.outcome is Outcome.SENT]
    if not results and unavailable is not None:
        raise unavailable
    if sent:
        return sent[0], ",".join(sorted(set(provider_names))), sandbox
    for outcome in (Outcome.RETRYABLE, Outcome.UNKNOWN, Outcome.PERMANENT, Outcome.INVALID_RECIPIENT):
        found = [r for r in results if r.outcome is outcome]
        if found:
            return found[0], ",".join(sorted(set(provider_names))), sandbox
    return Result(Outcome.PERMANENT, code="no_device"), "", sandbox


def _whatsapp_window_open(hashed: str, now: dt.datetime) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM notifications_conversationwindow WHERE channel = 'whatsapp' AND address_hash = %s "
            "AND last_inbound_at > %s",
            [hashed, now - dt.timedelta(hours=24)],
        )
        return cursor.fetchone() is not None


def _send_text(work: Work, hashed: str, now: dt.datetime) -> tuple[Result, str, bool]:
    provider = registry.get(work.channel)
    provider.require()
    message = dict(work.message)
    # The send id rides in the (signed) callback URL, so a receipt can settle a send whose
    # outcome we never learned (a timeout after Twilio accepted it).
    callback = f"{settings.PUBLIC_BASE_URL.rstrip('/')}/webhooks/twilio/status?send={work.id}"
    if work.channel == Channel.WHATSAPP and "content_sid" not in message and not _whatsapp_window_open(hashed, now):
        # Outside the 24-hour customer-service window only an approved template may go out.
        template = settings.NOTIFICATIONS_WHATSAPP_TEMPLATES.get(work.kind)
        if not template:
            return Result(Outcome.PERMANENT, code="template_required"), work.channel, provider.sandbox
        variables = {"1": message.get("title") or message["body"][:60]}
        message = {"content_sid": template, "variables": variables, "footer": message.get("footer")}
    if "content_sid" in message:
        variables = dict(message.get("variables") or {})
        if message.get("footer"):  # an approved template ends with this variable
            variables[settings.NOTIFICATIONS_WHATSAPP_FOOTER_VARIABLE] = message["footer"]
        result = provider.send(
            to=work.phone,
            content_sid=message["content_sid"],
            content_variables=variables or None,
            status_callback=callback,
        )
    else:
        result = provider.send(to=work.phone, body=text(message), status_callback=callback)
    return result, work.channel, provider.sandbox


def _record(work: Work, result: Result, providers: str, sandbox: bool, hashed: str, now: dt.datetime, report: Report):
    outcome = result.outcome
    if outcome is Outcome.SENT:
        _settle(
            work,
            S.SENT,
            provider=providers[:12],
            sandbox=sandbox,
            message_id=result.message_id[:200],
            sent_at=now,
        )
        report.sent += 1
        return
    retry = outcome is Outcome.RETRYABLE or (outcome is Outcome.UNKNOWN and work.channel == Channel.PUSH)
    if retry and work.attempts < settings.NOTIFICATIONS_MAX_ATTEMPTS:
        delay = backoff_seconds(work.attempts, result.retry_after_seconds)
        _release(work, due_at=now + dt.timedelta(seconds=delay), error=result.code or outcome.value, count_attempt=True)
        report.retried += 1
        return
    if outcome is Outcome.UNKNOWN:
        # It may have reached the recipient: never blindly send an SMS or WhatsApp again.
        _settle(work, S.UNKNOWN, error=result.code or "unknown", provider=providers[:12])
        report.unknown += 1
        return
    if outcome is Outcome.INVALID_RECIPIENT and work.channel != Channel.PUSH:
        unsubscribed = result.code in UNSUBSCRIBED_CODES
        suppression_add(
            channel=work.channel,
            reason=Suppression.Reason.UNSUBSCRIBED if unsubscribed else Suppression.Reason.HARD_BOUNCE,
            actor="system:notifications.dispatch",
            user_id=work.user_id,
            address=work.phone,
            note=result.code[:40],
        )
        _settle(work, S.SUPPRESSED if unsubscribed else S.FAILED, error=result.code, provider=providers[:12])
        report.failed += 1
        return
    _settle(work, S.FAILED, error=result.code or outcome.value, provider=providers[:12])
    report.failed += 1


class Courier:
    """Delivers sends one after another in this thread, one commit per send.

    The result of a send is committed together with the checks of the next one (or on its own
    when there is no next one at hand), so each send costs one transaction besides its provider
    call. Until that commit the send stays marked in flight, which is what a crash leaves too.
    """

    def __init__(self, report: Report):
        self.report = report
        self.pending: Callable[[], None] | None = None

    def _settle_pending(self) -> None:
        if self.pending is not None:
            pending, self.pending = self.pending, None
            pending()

    def flush(self) -> None:
        """Commit the last result now (before waiting for more work, and at the end)."""
        if self.pending is not None:
            with transaction.atomic():
                self._settle_pending()

    def hand_back(self, works: list[Work]) -> None:
        """Out of time: return these untouched, their attempt uncounted."""
        with transaction.atomic():
            self._settle_pending()
            for work in works:
                _release(work, due_at=timezone.now())

    def deliver(self, work: Work) -> None:
        """Check, send and (with the next send) record one claimed send."""
        now = timezone.now()
        report = self.report
        # Our claim must outlive the provider calls; when it would not, hand the send back untouched.
        calls = MAX_DEVICES if work.channel == Channel.PUSH else 1
        if now >= work.lease_until - dt.timedelta(seconds=settings.PROVIDER_TIMEOUT_SECONDS * calls + 1):
            self.hand_back([work])
            return
        blocked = gates.send_blocked(channel=work.channel, marketing=work.campaign_id is not None)
        if blocked:  # switched off (campaigns, providers) or held by an app's check: wait, do not fail
            with transaction.atomic():
                self._settle_pending()
                _release(work, due_at=now + dt.timedelta(seconds=settings.NOTIFICATIONS_DEFER_SECONDS), error=blocked)
            report.deferred += 1
            return
        with transaction.atomic():
            self._settle_pending()
            hashed = _prepare(work, now, report)
        if hashed is None:
            return
        try:
            if work.channel == Channel.PUSH:
                result, providers, sandbox = _send_push(work)
            else:
                result, providers, sandbox = _send_text(work, hashed, now)
        except ProviderUnavailable:
            due = now + dt.timedelta(seconds=settings.NOTIFICATIONS_DEFER_SECONDS)
            self.pending = lambda: _release(work, due_at=due, error="provider_unavailable")
            report.deferred += 1
            return
        answered = timezone.now()
        self.pending = lambda: _record(work, result, providers, sandbox, hashed, answered, report)
        logger.debug(
            "notification send",
            extra={"send_id": work.id, "channel": work.channel, "outcome": result.outcome.value, "code": result.code},
        )


def _deliver_batch(works: list[Work], courier: Courier, deadline: float) -> None:
    """Deliver one claimed batch in this thread, handing back what the time budget leaves."""
    for index, work in enumerate(works):
        if time.monotonic() >= deadline:
            courier.hand_back(works[index:])
            return
        courier.deliver(work)


class _Senders:
    """Threads that deliver sends side by side (each with its own connection), so a worker
    keeps several provider calls in flight instead of waiting on one."""

    def __init__(self, count: int, deadline: float):
        self.deadline = deadline
        self.queue: queue.Queue = queue.Queue()
        self.reports = [Report() for _ in range(count)]
        self.errors: list[BaseException] = []
        self.threads = [threading.Thread(target=self._run, args=(r,), daemon=True) for r in self.reports]
        for thread in self.threads:
            thread.start()

    def _next(self, courier: Courier) -> Work | None:
        try:
            return self.queue.get_nowait()
        except queue.Empty:
            courier.flush()  # nothing at hand: commit the last result before waiting
            return self.queue.get()

    def _run(self, report: Report) -> None:
        courier = Courier(report)
        try:
            while (work := self._next(courier)) is not None:
                try:
                    _deliver_batch([work], courier, self.deadline)
                except BaseException as error:  # surfaced by the dispatcher after the batch
                    self.errors.append(error)
                finally:
                    self.queue.task_done()
            self.queue.task_done()
        finally:
            try:
                courier.flush()
            finally:
                connections.close_all()

    def deliver(self, works: list[Work]) -> None:
        for work in works:
            self.queue.put(work)
        self.queue.join()
        if self.errors:
            raise self.errors[0]

    def close(self, report: Report) -> None:
        for _ in self.threads:
            self.queue.put(None)
        for thread in self.threads:
            thread.join()
        for part in self.reports:
            for name, value in part.as_dict().items():
                setattr(report, name, getattr(report, name) + value)
