"""Domain errors: what services, selectors, tasks and the back office raise.

They carry no HTTP: the API maps them once, in `samia/errors.py`, to the one error shape.
Services also raise Django's own `ObjectDoesNotExist` (as `Model.DoesNotExist`),
`ValidationError` and `PermissionDenied`.
"""

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    """An error a caller can act on; `details` holds ids and codes only, never personal data."""

    code = "error"
    status = 400
    default_message = _("The request cannot be carried out.")

    def __init__(self, message: str | None = None, **details):
        self.message = message or self.default_message
        self.details = details
        super().__init__(self.message)


class Conflict(DomainError):
    """The object is not in a state that allows this (409); `details.status` says which state it is in."""

    code = "conflict"
    status = 409
    default_message = _("The request conflicts with the current state of the resource.")


class Unavailable(DomainError):
    """A dependency the action needs is not configured or not answering (503)."""

    code = "unavailable"
    status = 503
    default_message = _("A dependency is unavailable.")
