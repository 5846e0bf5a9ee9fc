"""The dispatcher's loop: many provider requests in flight, one database connection.

One thread (the caller's, with its one database connection) does every database statement; the
provider requests run on the process's provider loop (`samia/providers/aio.py`), up to
NOTIFICATIONS_SEND_CONCURRENCY sends at once. Round after round, the thread:

1. records the answers that came back (one `settle` statement, one commit);
2. claims and loads another batch when fewer than half a batch wait (one short transaction), and
   asks the gates (`samia.providers.gates`) once per channel and kind of the batch;
3. for each lane (the providers a send uses) takes rate-limit tokens for as many waiting sends as
   there is room in flight (`limits.take`: one Redis round trip, shared by every worker);
4. checks those sends again (consent, suppression, account, campaign, quiet hours: one statement)
   and marks them in flight, settles the ones that must not go, commits, and hands the rest to
   the loop.

A send is marked in flight only once its tokens are taken and its checks passed, right before its
request leaves, and its answer is recorded within a round: a worker killed at any moment leaves at
most NOTIFICATIONS_SEND_CONCURRENCY sends in flight, which the reaper makes `unknown` (SMS,
WhatsApp) or sends again under the same collapse id (push). Claimed sends not yet in flight go
back to `queued` untouched.
"""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone

from notifications.dispatch import checks, delivery, limits
from notifications.dispatch.claims import claim, load
from notifications.dispatch.delivery import Plan, Report, conclude, decide, fold_push, logger, release
from notifications.models import Channel
from samia.providers import aio, gates, registry
from samia.providers.base import Outcome, Provider, ProviderUnavailable, Result
from samia.providers.breaker import COUNTED

# Longest a round waits for answers before it looks for more work.
ROUND_SECONDS = 0.02


def lease_margin() -> dt.timedelta:
    """How much of its claim a send needs left to be sent: one request's timeout and a second."""
    return dt.timedelta(seconds=settings.PROVIDER_TIMEOUT_SECONDS + 1)


@dataclass
class Answer:
    item: Plan
    results: list[Result]
    answered: dt.datetime


class Sender:
    """Runs sends' provider requests on the provider loop and queues their answers for the thread."""

    def __init__(self):
        self.answers: collections.deque[Answer] = collections.deque()
        self.ready = threading.Event()
        self.in_flight = 0
        self._tasks: set[asyncio.Task] = set()

    def submit(self, batch: list[tuple[Plan, list[dict]]]) -> None:
        self.in_flight += len(batch)
        aio.loop().call_soon_threadsafe(self._start, batch)

    def _start(self, batch) -> None:
        for item, calls in batch:
            task = asyncio.get_running_loop().create_task(self._send(item, calls))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _send(self, item: Plan, calls: list[dict]) -> None:
        pending = [provider.send_async(**call) for (_, provider), call in zip(item.targets, calls, strict=True)]
        answers = await asyncio.gather(*pending, return_exceptions=True)
        results = [_as_result(answer) for answer in answers]
        self.answers.append(Answer(item, results, timezone.now()))
        self.ready.set()

    def collect(self, timeout: float) -> list[Answer]:
        """The answers that came back, waiting up to `timeout` for one when none has."""
        if not self.answers and self.in_flight and timeout > 0:
            self.ready.wait(timeout)
        self.ready.clear()
        answers = []
        while self.answers:
            answers.append(self.answers.popleft())
        self.in_flight -= len(answers)
        return answers


def _as_result(answer) -> Result:
    if isinstance(answer, Result):
        return answer
    if isinstance(answer, ProviderUnavailable):  # switched off or unconfigured meanwhile: nothing left
        return Result(Outcome.RETRYABLE, code="provider_unavailable")
    # An adapter maps what its library raises; anything else may have happened after sending.
    return Result(Outcome.UNKNOWN, code=type(answer).__name__[:40])


class _Resolver:
    """The adapters of one batch: the registry is asked once per provider name (switches, circuit)."""

    def __init__(self):
        self.found: dict[str, Provider | ProviderUnavailable] = {}

    def __call__(self, name: str) -> Provider:
        if name not in self.found:
            try:
                registry.get(name)  # raises while unconfigured, switched off or its circuit is open
                provider = registry.adapter(name)
                provider.require()
            except ProviderUnavailable as error:
                provider = error
            self.found[name] = provider
        found = self.found[name]
        if isinstance(found, ProviderUnavailable):
            raise found
        return found


# Answers that say "slow down": the provider is up and metering us (its Retry-After pauses it).
THROTTLED_CODES = frozenset({"20429", "QUOTA_EXCEEDED", "RESOURCE_EXHAUSTED", "TooManyRequests"})


def _throttled(result: Result) -> bool:
    return result.details.get("http_status") == 429 or result.code in THROTTLED_CODES


def _circuits(answers: list[Answer]) -> None:
    """Tell each provider's circuit how this round went, in a few Redis calls rather than one per request.

    Any answer that is not an outage resets its count; otherwise each outage counts (the circuit
    only needs to know that the failures came in a row). A throttling answer (429) is neither:
    the provider is up, and its Retry-After already pauses every worker.
    """
    by_name: dict[str, list[Result]] = {}
    for answer in answers:
        names = [d.platform if d else answer.item.work.channel for d, _ in answer.item.targets]
        for name, result in zip(names, answer.results, strict=True):
            if not _throttled(result):
                by_name.setdefault(name, []).append(result)
    for name, results in by_name.items():
        circuit = registry.breaker(name)
        healthy = next((r for r in results if r.outcome not in COUNTED), None)
        if healthy is not None:
            circuit.record(healthy)
            continue
        for result in results[: settings.PROVIDER_BREAKER_FAIL_MAX]:
            circuit.record(result)


class Pipeline:
    """One dispatch run: claims, rate limits, checks, sends and records until done or out of time."""

    def __init__(self, report: Report, deadline: float, batch_size: int):
        self.report = report
        self.deadline = deadline
        self.batch_size = batch_size
        self.capacity = max(1, settings.NOTIFICATIONS_SEND_CONCURRENCY)
        self.lanes: dict[tuple[str, ...], collections.deque[Plan]] = {}
        self.not_before: dict[tuple[str, ...], float] = {}
        self.sender = Sender()
        self.exhausted = False
        if dt.timedelta(seconds=settings.NOTIFICATIONS_LEASE_SECONDS) <= lease_margin():
            # Every claimed send would be handed back at once, and claimed again, all run long.
            raise ImproperlyConfigured("NOTIFICATIONS_LEASE_SECONDS must exceed PROVIDER_TIMEOUT_SECONDS + 1")

    @property
    def waiting(self) -> int:
        return sum(len(lane) for lane in self.lanes.values())

    def run(self) -> None:
        try:
            while True:
                self._record(self.sender.collect(self._pause()))
                if time.monotonic() >= self.deadline:
                    break
                if not self.exhausted and self.waiting < max(self.batch_size // 2, 1):
                    self._claim()
                if self.exhausted and not self.waiting and not self.sender.in_flight:
                    break
                self._launch()
        finally:
            self._hand_back()
            while self.sender.in_flight:  # each request ends by its own timeout
                self._record(self.sender.collect(ROUND_SECONDS * 5))

    def _pause(self) -> float:
        """How long this round may wait for answers: not at all when there is room and work."""
        room = self.sender.in_flight < self.capacity
        now = time.monotonic()
        ready = [lane for lane, plans in self.lanes.items() if plans and self.not_before.get(lane, 0) <= now]
        return 0 if room and ready else ROUND_SECONDS

    def _claim(self) -> None:
        ids = claim(self.batch_size)
        if not ids:
            self.exhausted = True
            return
        self.report.claimed += len(ids)
        self.enqueue(load(ids))

    def enqueue(self, works: list) -> None:
        """Queue claimed sends by lane, deferring those a gate holds (asked once per channel and kind)."""
        now = timezone.now()
        blocked_by: dict[tuple[str, bool], str | None] = {}
        resolve = _Resolver()
        deferred = []
        for work in works:
            kind = (work.channel, work.campaign_id is not None)
            if kind not in blocked_by:
                blocked_by[kind] = gates.send_blocked(channel=kind[0], marketing=kind[1])
            if blocked_by[kind]:  # switched off (campaigns, providers) or held by an app's check: wait
                due = now + dt.timedelta(seconds=settings.NOTIFICATIONS_DEFER_SECONDS)
                deferred.append(release(work, due_at=due, error=blocked_by[kind]))
                continue
            item = delivery.plan(work, resolve)
            lane = tuple(sorted(item.providers))
            self.lanes.setdefault(lane, collections.deque()).append(item)
        if deferred:
            with transaction.atomic():
                checks.settle(deferred)
            self.report.deferred += len(deferred)

    def _launch(self) -> None:
        """Take tokens for what fits in flight, check it, settle what must not go, send the rest."""
        granted: list[Plan] = []
        handed_back = []
        room = self.capacity - self.sender.in_flight
        now_clock = time.monotonic()
        now = timezone.now()
        margin = lease_margin()
        for lane, plans in self.lanes.items():
            if room <= 0 or not plans or self.not_before.get(lane, 0) > now_clock:
                continue
            candidates = []
            wanted = min(room, limits.ask_size(plans[0].needs) or room)
            while plans and len(candidates) < wanted:
                item = plans.popleft()
                # Our claim must outlive the provider calls (a push's devices are called side by
                # side); when it would not, hand the send back untouched.
                if now >= item.work.lease_until - margin:
                    handed_back.append(release(item.work, due_at=now))
                else:
                    candidates.append(item)
            count, wait = self._tokens(lane, candidates)
            granted += candidates[:count]
            plans.extendleft(reversed(candidates[count:]))
            room -= count
            if count < len(candidates):
                self.not_before[lane] = now_clock + min(max(wait, 0.001), 1.0)
                if wait > self.deadline - now_clock:  # paused past this run: let the next one try
                    due = now + dt.timedelta(seconds=wait)
                    handed_back += [release(item.work, due_at=due, error="provider_paused") for item in plans]
                    plans.clear()
        if granted or handed_back:
            self._send(granted, handed_back, now)

    def _tokens(self, lane: tuple[str, ...], candidates: list[Plan]) -> tuple[int, float]:
        needs = [item.needs for item in candidates]
        if not candidates or not any(needs):
            return len(candidates), 0.0
        return limits.take(needs, set(lane))

    def _send(self, granted: list[Plan], settlements: list, now: dt.datetime) -> None:
        ready = []
        with transaction.atomic():
            checked = checks.check([item.work for item in granted])
            going = []
            for item in granted:
                found = checked.get(item.work.id)
                if found is None:  # cancelled, reaped or settled elsewhere meanwhile
                    continue
                settlement = decide(item.work, found, now, self.report)
                if settlement is not None:
                    settlements.append(settlement)
                elif item.unavailable is not None:
                    due = now + dt.timedelta(seconds=settings.NOTIFICATIONS_DEFER_SECONDS)
                    settlements.append(release(item.work, due_at=due, error="provider_unavailable"))
                    self.report.deferred += 1
                else:
                    going.append(item)
            texts = {i.work.address_hash for i in going if i.work.channel == Channel.WHATSAPP}
            windows = checks.whatsapp_windows(texts, now)
            for item in going:
                calls = delivery.requests(item, item.work.address_hash in windows)
                if isinstance(calls, Result):  # settled without a request (no device, no template)
                    names = item.work.channel if item.work.channel != Channel.PUSH else ""
                    settlements.append(conclude(item.work, calls, names, False, now, self.report))
                else:
                    ready.append((item, calls))
            checks.settle(settlements)
        if ready:
            self.sender.submit(ready)
            self.report.peak_in_flight = max(self.report.peak_in_flight, self.sender.in_flight)

    def _record(self, answers: list[Answer]) -> None:
        if not answers:
            return
        settlements = []
        with transaction.atomic():
            for answer in answers:
                item, work = answer.item, answer.item.work
                if work.channel == Channel.PUSH:
                    result, names, sandbox = fold_push(item, answer.results)
                else:
                    (result,) = answer.results
                    names, sandbox = work.channel, item.targets[0][1].sandbox
                self._pause_provider(item, answer.results)
                settlements.append(conclude(work, result, names, sandbox, answer.answered, self.report))
                logger.debug(
                    "notification send",
                    extra={
                        "send_id": work.id,
                        "channel": work.channel,
                        "outcome": result.outcome.value,
                        "code": result.code,
                    },
                )
            checks.settle(settlements)
        _circuits(answers)

    def _pause_provider(self, item: Plan, results: list[Result]) -> None:
        """A provider that asked us to wait (Retry-After) is paused for every worker."""
        for (device, _), result in zip(item.targets, results, strict=True):
            if result.outcome is Outcome.RETRYABLE and result.retry_after_seconds:
                provider = limits.provider_of(item.work.channel, device.platform if device else "")
                limits.pause(provider, result.retry_after_seconds)

    def _hand_back(self) -> None:
        """Out of time: return the sends not yet in flight untouched, their attempt uncounted."""
        now = timezone.now()
        settlements = [release(item.work, due_at=now) for lane in self.lanes.values() for item in lane]
        for lane in self.lanes.values():
            lane.clear()
        if settlements:
            with transaction.atomic():
                checks.settle(settlements)
