"""The provider contract and its error taxonomy.

Every adapter (FCM, APNs, Twilio SMS/WhatsApp, payments, storage, translation) sends or
calls through `send()` and reports its health through `probe()`. Whatever the library
raises is mapped onto four kinds of failure, so callers decide retries in one place.
"""

from __future__ import annotations

import asyncio
import enum
from dataclasses import dataclass, field


class Outcome(enum.Enum):
    SENT = "sent"  # the provider accepted it; `message_id` names it
    RETRYABLE = "retryable"  # try again later (quota, unavailable, timeout before sending)
    PERMANENT = "permanent"  # never succeeds as is (bad payload, bad credentials)
    INVALID_RECIPIENT = "invalid_recipient"  # the address or token is dead: deactivate or suppress it
    UNKNOWN = "unknown"  # the request may have reached the provider: do not blindly resend


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    message_id: str = ""
    code: str = ""  # the provider's own error code, never a message body or an address
    retry_after_seconds: int | None = None
    details: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.SENT


class ProviderUnavailable(Exception):
    """The provider is not configured (or switched off): sends stay deferred, never faked."""

    def __init__(self, provider: str, reason: str = "not configured"):
        super().__init__(f"{provider}: {reason}")
        self.provider = provider
        self.reason = reason


@dataclass(frozen=True)
class Health:
    provider: str
    available: bool
    detail: str = ""  # a code such as "not_configured" or "http_503"; never credentials


class Provider:
    """An external service. Subclasses implement `configured`, `send` and `probe`."""

    name: str = "provider"
    sandbox: bool = False  # a recording backend for demos, labelled as such wherever it shows

    def configured(self) -> bool:
        raise NotImplementedError

    def require(self) -> None:
        """Raise ProviderUnavailable unless the provider is configured."""
        if not self.configured():
            raise ProviderUnavailable(self.name)

    def send(self, **message) -> Result:
        raise NotImplementedError

    async def send_async(self, **message) -> Result:
        """`send()` for callers on an event loop; adapters with an async client override it."""
        return await asyncio.to_thread(self.send, **message)

    def probe(self) -> Health:
        raise NotImplementedError

    def probe_credentials(self) -> Health:
        """Whether the provider accepts this adapter's credentials (the gate of `secrets_set`).

        Most probes already ask something only valid credentials get; an adapter whose probe does
        not (APNs: a connection opens without them) overrides this.
        """
        return self.probe()
