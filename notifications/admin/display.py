"""How the notifications back office shows people and times (refusals: samia.rls.admin.run_action)."""

from __future__ import annotations

from samia.backoffice_timezone import local_time as when

__all__ = ["person", "when"]


def person(user) -> str:
    """A user as staff read them: display name and masked email (the user's `__str__`), never a phone."""
    return "-" if user is None else str(user)
