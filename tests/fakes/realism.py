"""What makes a fake provider behave like the real one under load: latency, errors, a rate limit.

Shared by the fake FCM, APNs and Twilio servers (standard library only, so a benchmark can run them
in other processes):

- **latency**: log-normal, given by its median and its 99th percentile (real services: most
  answers near the median, a long tail). The command-line default is 80 ms with a 400 ms p99; in a
  test the fake answers at once unless the test sets a latency.
- **errors**: a share of the requests answered 429 with `Retry-After` (half of the share) or 503
  (the other half), decided after the latency, as a loaded service would.
- **rate limit**: at most `rate_limit` requests a second, a token bucket holding `burst_seconds`
  of them; a request over it is answered 429 with `Retry-After: 1` and counted as an **excess**.
  Requests are also counted per wall-clock second (`peak_per_second`), so a test or a benchmark
  can assert that the clients, together, never went over.

`stats()` is also served as JSON at `GET /__fake/stats` by each fake, for a benchmark whose fake
runs in another process.
"""

from __future__ import annotations

import argparse
import math
import random
import threading
import time
from dataclasses import dataclass, field

Z99 = 2.3263478740408408  # the standard normal's 99th percentile


@dataclass
class Realism:
    latency_ms: float = 0.0  # median; 0 answers at once
    p99_ms: float = 0.0  # 0: five times the median
    error_share: float = 0.0
    retry_after: int = 1  # seconds, on the injected 429s
    rate_limit: float = 0.0  # requests per second; 0: none
    burst_seconds: float = 0.05
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _tokens: float = 0.0
    _refilled: float = 0.0
    _per_second: dict[int, int] = field(default_factory=dict)
    _requests: int = 0
    _excess: int = 0
    _injected: int = 0
    _first: float = 0.0
    _last: float = 0.0

    def delay(self) -> float:
        """Seconds to wait before answering one request."""
        if self.latency_ms <= 0:
            return 0.0
        p99 = self.p99_ms or self.latency_ms * 5
        sigma = math.log(max(p99, self.latency_ms) / self.latency_ms) / Z99
        return self.latency_ms / 1000 * math.exp(random.gauss(0, sigma))

    def admit(self) -> bool:
        """Count one request; False when it is over the rate limit (answer 429, Retry-After: 1)."""
        now = time.time()
        with self._lock:
            self._requests += 1
            self._first = self._first or now
            self._last = now
            second = int(now)
            self._per_second[second] = self._per_second.get(second, 0) + 1
            if self.rate_limit <= 0:
                return True
            capacity = max(2.0, self.rate_limit * self.burst_seconds)
            if not self._refilled:
                self._tokens, self._refilled = capacity, now
            self._tokens = min(capacity, self._tokens + (now - self._refilled) * self.rate_limit)
            self._refilled = now
            if self._tokens >= 1:
                self._tokens -= 1
                return True
            self._excess += 1
            return False

    def injected_error(self) -> int | None:
        """None, or the status of an injected error: 429 or 503."""
        if self.error_share <= 0 or random.random() >= self.error_share:
            return None
        with self._lock:
            self._injected += 1
        return 429 if random.random() < 0.5 else 503

    def reset(self) -> None:
        with self._lock:
            self._tokens = self._refilled = 0.0
            self._per_second = {}
            self._requests = self._excess = self._injected = 0
            self._first = self._last = 0.0

    def stats(self) -> dict:
        """Requests, the busiest wall-clock second, requests over the limit, injected errors."""
        with self._lock:
            counts = dict(self._per_second)
            full = [count for second, count in counts.items() if self._first < second and second + 1 <= self._last]
            return {
                "requests": self._requests,
                "peak_per_second": max(counts.values(), default=0),
                "peak_full_second": max(full, default=0),  # seconds the run covered whole
                "excess": self._excess,
                "injected_errors": self._injected,
                "rate_limit": self.rate_limit,
                "seconds": round(self._last - self._first, 3),
            }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The command-line options of every fake (a benchmark's 80 ms default)."""
    parser.add_argument("--latency-ms", type=float, default=80.0, help="median latency (0: answer at once)")
    parser.add_argument("--p99-ms", type=float, default=400.0, help="99th percentile latency")
    parser.add_argument("--error-share", type=float, default=0.0, help="share answered 429 + Retry-After or 503")
    parser.add_argument("--retry-after", type=int, default=1)
    parser.add_argument("--rate-limit", type=float, default=0.0, help="requests per second (0: none)")
    parser.add_argument("--burst-seconds", type=float, default=0.05, help="seconds of the rate the bucket holds")


def from_arguments(arguments: argparse.Namespace) -> Realism:
    return Realism(
        latency_ms=arguments.latency_ms,
        p99_ms=arguments.p99_ms,
        error_share=arguments.error_share,
        retry_after=arguments.retry_after,
        rate_limit=arguments.rate_limit,
        burst_seconds=arguments.burst_seconds,
    )
