"""Delivery rules: what a checked send may do, what it asks its providers, what an answer means.

`plan` says which providers a claimed send needs (and so its rate-limit tokens); `decide` turns
the checks read just before sending into a settlement when the send must not go now; `requests`
builds the provider calls; `conclude` turns the providers' answers into the send's next state,
with the side effects a dead token or number has (deactivate, suppress). No function here waits
on a provider: `pipeline` does the I/O.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import random
from dataclasses import dataclass, field

from django.conf import settings
from django.utils import timezone

from notifications.dispatch import limits
from notifications.dispatch.checks import Checked, Settlement
from notifications.dispatch.claims import Work
from notifications.dispatch.messages import text
from notifications.models import Channel, DeviceToken, Send, Suppression
from notifications.quiet import in_quiet_hours, next_allowed
from notifications.services import device_deactivate, suppression_add
from samia.providers.base import Outcome, Provider, ProviderUnavailable, Result

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
    peak_in_flight: int = 0

    def as_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class Plan:
    """A claimed send with the providers it will call (push: one per device with a configured platform)."""

    work: Work
    targets: list[tuple[DeviceToken | None, Provider]] = field(default_factory=list)
    unavailable: ProviderUnavailable | None = None  # no provider for it is configured: defer

    @functools.cached_property
    def needs(self) -> dict[str, int]:
        """Rate-limit tokens: one per request, from every bucket that applies to it (asked once a send)."""
        tokens: dict[str, int] = {}
        for device, _ in self.targets:
            for name in limits.buckets(self.work.channel, device.platform if device else ""):
                tokens[name] = tokens.get(name, 0) + 1
        return tokens

    @property
    def providers(self) -> set[str]:
        return {limits.provider_of(self.work.channel, d.platform if d else "") for d, _ in self.targets}


def plan(work: Work, resolve) -> Plan:
    """Resolve the providers a send needs; none usable leaves it `unavailable` (deferred later).

    `resolve(name)` returns the adapter of a provider name or raises ProviderUnavailable (not
    configured, switched off, circuit open); the pipeline asks the registry once per batch.
    """
    result = Plan(work)
    names = [work.channel] if work.channel != Channel.PUSH else [device.platform for device in work.devices]
    for device, name in zip(work.devices if work.channel == Channel.PUSH else [None], names, strict=True):
        try:
            provider = resolve(name)
        except ProviderUnavailable as error:  # that platform waits; the others still get it
            result.unavailable = error
            continue
        result.targets.append((device, provider))
    if result.targets:
        result.unavailable = None
    return result


def backoff_seconds(attempts: int, retry_after: int | None = None) -> float:
    """Capped exponential backoff with full jitter, never sooner than the provider asked."""
    cap = min(
        settings.NOTIFICATIONS_BACKOFF_CAP_SECONDS,
        settings.NOTIFICATIONS_BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0),
    )
    delay = random.uniform(0, cap)
    return max(delay, retry_after or 0)


def release(work: Work, *, due_at: dt.datetime, error: str = "", count_attempt: bool = False) -> Settlement:
    """Put a send back to wait until `due_at`; an attempt that never reached a provider is not counted."""
    return Settlement(work, S.QUEUED, error=error, due_at=due_at, attempts_back=not count_attempt)


def decide(work: Work, checked: Checked, now: dt.datetime, report: Report) -> Settlement | None:
    """The settlement of a send that must not go now, given its checks; None when it goes."""
    if not checked.campaign_live:  # paused since the claim: wait for a resume
        report.skipped += 1
        return release(work, due_at=now)
    settlement = _stopped(work, checked, now)
    if settlement is not None:
        report.skipped += 1
    return settlement


def _stopped(work: Work, checked: Checked, now: dt.datetime) -> Settlement | None:
    if now >= work.expires_at:
        return Settlement(work, S.EXPIRED)
    if work.attempts > settings.NOTIFICATIONS_MAX_ATTEMPTS:
        # Claimed again and again without a result (e.g. its worker keeps dying): stop.
        return Settlement(work, S.FAILED, error="too_many_attempts")
    if not checked.account_ok:
        return Settlement(work, S.CANCELLED, error="recipient_inactive")
    if not checked.consent:
        return Settlement(work, S.OPTED_OUT)
    if checked.suppressed:
        return Settlement(work, S.SUPPRESSED)
    if not work.critical and in_quiet_hours(now, work.zone, work.channel, work.purpose):
        resume = next_allowed(now, work.zone, work.channel, work.purpose)
        if resume < work.expires_at:
            return release(work, due_at=resume, error="quiet_hours")
        return Settlement(work, S.SKIPPED_QUIET_HOURS)
    if not work.message:
        return Settlement(work, S.CANCELLED, error="content_withdrawn")
    if work.channel != Channel.PUSH and not work.phone:
        return Settlement(work, S.FAILED, error="no_address")
    return None


def requests(item: Plan, window_open: bool) -> list[dict] | Result:
    """The keyword arguments of each provider call, or the Result that settles it without one."""
    work, message = item.work, item.work.message
    if work.channel == Channel.PUSH:
        if not item.targets:
            return Result(Outcome.PERMANENT, code="no_device")
        ttl = max(int((work.expires_at - timezone.now()).total_seconds()), 0)
        common = {"title": message.get("title", ""), "body": message["body"], "data": message["data"]}
        # One collapse id per send: a push sent again after an unknown outcome shows once.
        common.update(collapse_id=f"samia-{work.id}", ttl_seconds=ttl, critical=work.critical)
        return [{"token": device.token, **common} for device, _ in item.targets]
    # The send id rides in the (signed) callback URL, so a receipt can settle a send whose
    # outcome we never learned (a timeout after Twilio accepted it).
    callback = f"{settings.PUBLIC_BASE_URL.rstrip('/')}/webhooks/twilio/status?send={work.id}"
    message = dict(message)
    if work.channel == Channel.WHATSAPP and "content_sid" not in message and not window_open:
        # Outside the 24-hour customer-service window only an approved template may go out.
        template = settings.NOTIFICATIONS_WHATSAPP_TEMPLATES.get(work.kind)
        if not template:
            return Result(Outcome.PERMANENT, code="template_required")
        variables = {"1": message.get("title") or message["body"][:60]}
        message = {"content_sid": template, "variables": variables, "footer": message.get("footer")}
    if "content_sid" in message:
        variables = dict(message.get("variables") or {})
        if message.get("footer"):  # an approved template ends with this variable
            variables[settings.NOTIFICATIONS_WHATSAPP_FOOTER_VARIABLE] = message["footer"]
        request = {"content_sid": message["content_sid"], "content_variables": variables or None}
    else:
        request = {"body": text(message)}
    return [{"to": work.phone, "status_callback": callback, **request}]


def fold_push(item: Plan, results: list[Result]) -> tuple[Result, str, bool]:
    """One push's outcome from its devices' answers: one accepted push counts as sent.

    A dead token is deactivated and its hash suppressed (`invalid_token`) unless it was
    registered again after Apple's `unregistered_at`.
    """
    names = ",".join(sorted({device.platform for device, _ in item.targets}))
    sandbox = any(provider.sandbox for _, provider in item.targets)
    for (device, _), result in zip(item.targets, results, strict=True):
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
    for outcome in (Outcome.SENT, Outcome.RETRYABLE, Outcome.UNKNOWN, Outcome.PERMANENT, Outcome.INVALID_RECIPIENT):
        found = [r for r in results if r.outcome is outcome]
        if found:
            return found[0], names, sandbox
    return Result(Outcome.PERMANENT, code="no_device"), "", sandbox


def conclude(work: Work, result: Result, providers: str, sandbox: bool, now: dt.datetime, report: Report):
    """The settlement of an answered send (and, for a dead number, its suppression)."""
    outcome = result.outcome
    if outcome is Outcome.SENT:
        report.sent += 1
        return Settlement(work, S.SENT, provider=providers, sandbox=sandbox, message_id=result.message_id, sent_at=now)
    retry = outcome is Outcome.RETRYABLE or (outcome is Outcome.UNKNOWN and work.channel == Channel.PUSH)
    if retry and work.attempts < settings.NOTIFICATIONS_MAX_ATTEMPTS:
        delay = backoff_seconds(work.attempts, result.retry_after_seconds)
        report.retried += 1
        return release(
            work, due_at=now + dt.timedelta(seconds=delay), error=result.code or outcome.value, count_attempt=True
        )
    if outcome is Outcome.UNKNOWN:
        # It may have reached the recipient: never blindly send an SMS or WhatsApp again.
        report.unknown += 1
        return Settlement(work, S.UNKNOWN, error=result.code or "unknown", provider=providers)
    report.failed += 1
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
        return Settlement(work, S.SUPPRESSED if unsubscribed else S.FAILED, error=result.code, provider=providers)
    return Settlement(work, S.FAILED, error=result.code or outcome.value, provider=providers)
