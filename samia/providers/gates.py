"""Whether sends may go out now: the one question a dispatcher asks before a batch (or a send).

`send_blocked` answers with a reason code when sends on a channel must wait (deferred, never
failed), or None. It checks the global `campaigns` switch for marketing sends, whether every
provider of the channel is switched off, and then the checks apps registered at AppConfig.ready
(e.g. a budget's degraded mode). A check is `check(*, channel, marketing) -> str | None`.
"""

from __future__ import annotations

from collections.abc import Callable

from samia.providers import toggles

Check = Callable[..., str | None]

# The providers that can carry each channel (push: any of the device platforms).
CHANNEL_PROVIDERS = {"push": ("fcm", "apns"), "sms": ("sms",), "whatsapp": ("whatsapp",)}

_checks: list[Check] = []


def register(check: Check) -> None:
    """Add a check that may defer sends; call it from AppConfig.ready (idempotent)."""
    if check not in _checks:
        _checks.append(check)


def send_blocked(*, channel: str, marketing: bool) -> str | None:
    """Return why sends on `channel` must be deferred now (a reason code), or None when they may go."""
    if marketing and not toggles.enabled(toggles.CAMPAIGNS):
        return "campaigns_disabled"
    if not any(toggles.enabled(name) for name in CHANNEL_PROVIDERS.get(channel, (channel,))):
        return "provider_disabled"
    for check in _checks:
        reason = check(channel=channel, marketing=marketing)
        if reason:
            return reason
    return None
