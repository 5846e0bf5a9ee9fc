"""The sandbox backend, for local demos only: it records that a message would have gone out.

Selected explicitly (NOTIFICATIONS_SANDBOX=1 maps every channel to it), like Django's console
email backend. Nothing leaves the machine. Each send it accepts is stored with `sandbox=True` and
shows as "sandbox" in the back office, the campaign stats and the user's history, so it is never
mistaken for a delivered message. The log line carries the channel only, never the address or body.
"""

from __future__ import annotations

import logging
import uuid

from samia.providers.base import Health, Outcome, Provider, Result

logger = logging.getLogger(__name__)


class SandboxProvider(Provider):
    name = "sandbox"
    sandbox = True

    def configured(self) -> bool:
        return True

    def send(self, **message) -> Result:
        message_id = f"sandbox-{uuid.uuid4().hex}"
        kind = "push" if "token" in message else "text"
        logger.info("sandbox send recorded (not sent)", extra={"provider": self.name, "kind": kind})
        return Result(Outcome.SENT, message_id=message_id, details={"sandbox": True})

    def probe(self) -> Health:
        return Health(self.name, True, "sandbox")
