"""Tell staff about an operational event (a budget alert, an incident page) without importing the channel app.

The notifications app registers its sender in its AppConfig.ready(); without one (notifications not
installed), `staff_notify` says so by returning False and the caller's audit entry still records the event.
"""

from __future__ import annotations

from collections.abc import Callable

SENDERS: list[Callable[..., None]] = []


def sender_register(sender: Callable[..., None]) -> None:
    """Register `sender(*, user_id, kind, title, body, actor, critical, dedupe)` that plans one message to one user."""
    if sender not in SENDERS:
        SENDERS.append(sender)


def staff_notify(*, user_ids: list[int], kind: str, title: str, body: str, actor, critical: bool, dedupe: str) -> bool:
    """Send `title`/`body` to each of `user_ids` through every registered sender; False when none is registered.

    `actor` is the Identity of the request that causes it (its policies apply) or "system:<job>".
    """
    for sender in SENDERS:
        for user_id in user_ids:
            sender(
                user_id=user_id,
                kind=kind,
                title=title,
                body=body,
                actor=actor,
                critical=critical,
                dedupe=f"{dedupe}:{user_id}",
            )
    return bool(SENDERS)
