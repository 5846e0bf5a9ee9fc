"""The language to answer a phone number in when no one is signed in (the SMS HELP reply).

Twilio's webhook runs with no identity, so it may not read accounts_user; the i18n app answers
through a function that returns a language code and nothing else, and registers it here in its
AppConfig.ready(). Without one, every number is answered in English. Notifications asks here and so
does not import i18n.
"""

from __future__ import annotations

from collections.abc import Callable

_lookup: list[Callable[[str], str | None]] = []


def phone_language_register(function: Callable[[str], str | None]) -> None:
    """Let `function(number)` say which profile language holds `number` (the i18n app registers one)."""
    _lookup[:] = [function]


def phone_language(number: str) -> str | None:
    """Return the profile language of the account(s) holding `number`, or None when unknown."""
    if not _lookup or not number:
        return None
    return _lookup[0](number)
