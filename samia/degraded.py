"""Degraded modes: features a milestone app may switch off (sre, when a budget is spent) and views that ask.

The kernel does not import the app that decides: it registers `checker(feature) -> reason | None`
in its AppConfig.ready(). A view calls `degraded.check("ar_upload")` before the costly work; it raises
`Degraded` (503 `degraded`, mapped once in samia/errors.py) while any checker names a reason.
"""

from __future__ import annotations

from collections.abc import Callable

from samia.exceptions import Unavailable

# Features a checker may degrade (SRE_COST_README.md, "Degraded modes").
FEATURES = ("ar_upload", "translation")
CHECKERS: list[Callable[[str], str | None]] = []


class Degraded(Unavailable):
    """The feature is off for now (a budget is spent); `details.reason` says why, `details.feature` which."""

    code = "degraded"
    default_message = "This feature is paused for now; try again later."


def checker_register(checker: Callable[[str], str | None]) -> None:
    """Register `checker(feature) -> reason | None`."""
    if checker not in CHECKERS:
        CHECKERS.append(checker)


def reason(feature: str) -> str | None:
    """Return why `feature` is degraded now, or None."""
    if feature not in FEATURES:
        raise ValueError(f"unknown feature {feature!r}")
    return next((found for checker in CHECKERS if (found := checker(feature))), None)


def check(feature: str) -> None:
    """Raise Degraded while `feature` is degraded."""
    found = reason(feature)
    if found:
        raise Degraded(feature=feature, reason=found)
