"""The error paths whose bodies tests/test_error_bodies.py pins, registered by name (one module per app)."""

from __future__ import annotations

import re
from collections.abc import Callable

UNKNOWN = 999999

CAMPAIGN = {
    "name": "Golden campaign",
    "channel": "sms",
    "audience": {"roles": ["client"]},
    "templates": {"en": {"title": "", "body": "A reading for the full moon"}},
    "send_on": "2027-03-01",
    "local_time": "10:00",
}
FORM = "application/x-www-form-urlencoded"
TWILIO_FORM = "MessageSid=SM0123&MessageStatus=delivered"


class Case:
    def __init__(self, name: str, status: int, run: Callable):
        self.name, self.status, self.run = name, status, run

    @property
    def request_id(self) -> str:
        # X-Request-ID must match ^[A-Za-z0-9-]{8,64}$ to be kept (samia/logging.py).
        return ("eb-" + re.sub(r"[^A-Za-z0-9]+", "-", self.name))[:64].rstrip("-")


CASES: dict[str, Case] = {}


def case(name: str, status: int):
    """Register a case: `run(api, personas)` returns the response (or (response, {key: id}) to normalise)."""

    def register(run):
        assert name not in CASES, name
        CASES[name] = Case(name, status, run)
        return run

    return register


def _ok(response, status: int):
    """Setup steps must succeed, or the case would record some other error than the one it names."""
    assert response.status_code == status, (response.status_code, response.content)
    return response
