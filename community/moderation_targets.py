"""What community registers with moderation (moderation/targets.py): restoring a comment, the case page's panel."""

from moderation import targets

TARGET_TYPE = "comment"


def _restore(*, identity, action) -> bool:
    from community import services

    return services.comment_restore(identity=identity, action=action)


def _case_panel(identity, case):
    from community.admin.comments import case_panel

    return case_panel(identity, case)


def register() -> None:
    """Register the `comment` target: an overturn restores it; a community case's page shows its thread."""
    targets.register(TARGET_TYPE, targets.Target(restore=_restore, case_source="community", case_panel=_case_panel))
