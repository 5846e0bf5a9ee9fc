"""What moderation acts on beyond users, orders, media and calls: targets other apps register.

Moderation never imports the apps it moderates. An app that files actions on a target type of its
own (community: `comment`) registers it here from its `AppConfig.ready()`:

- `restore(identity, action)`: undo what the action did to its target (an appeal's overturn);
  return whether something changed. It runs in the appeal's transaction, as the deciding staff
  member, and raises the app's domain errors.
- `case_panel(identity, case)`: an optional `(template, context)` the case page draws under the
  form for a case of that app's source (the comments of a community case), or None.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Target:
    restore: Callable
    case_source: str = ""
    case_panel: Callable | None = None


TARGETS: dict[str, Target] = {}


def register(target_type: str, target: Target) -> None:
    """Register what moderation may do to actions of `target_type` (call from AppConfig.ready)."""
    TARGETS[target_type] = target


def get(target_type: str) -> Target | None:
    return TARGETS.get(target_type)


def case_panels(identity, case) -> list[tuple[str, dict]]:
    """Return the panels the registered targets draw on `case`'s page."""
    panels = []
    for target in TARGETS.values():
        if target.case_panel is not None and target.case_source == case.source:
            panel = target.case_panel(identity, case)
            if panel is not None:
                panels.append(panel)
    return panels
