"""What the notifications back office shows and says: people, times, refusals in words."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import DatabaseError, transaction
from django.http import HttpResponseRedirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from samia.exceptions import DomainError
from samia.rls.admin import refusal_message

# What a service raises when it refuses: shown to the person as a message, never a 500.
REFUSALS = (ValidationError, ObjectDoesNotExist, PermissionDenied, DomainError)


def person(user) -> str:
    """A user as staff read them: display name and masked email (the user's `__str__`), never a phone."""
    return "-" if user is None else str(user)


def when(value) -> str:
    """A time in the staff member's zone (the active one), with the zone named."""
    if value is None:
        return "-"
    return f"{timezone.localtime(value):%Y-%m-%d %H:%M} {timezone.get_current_timezone_name()}"


def in_words(error: Exception, model=None) -> str | None:
    """Why a service or Postgres refused, for a person; None when it was not a refusal."""
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    if isinstance(error, ObjectDoesNotExist):
        return str(error) if "matching query" not in str(error) else _("It no longer exists.")
    if isinstance(error, REFUSALS):
        return str(error) or _("Your role may not do this.")
    if isinstance(error, DatabaseError) and model is not None:
        return refusal_message(error, model)
    return None


def run_each(modeladmin, request, items, act, name) -> None:
    """Run `act(item)` for each item in its own savepoint; report done and refused in one message."""
    done, refused = 0, []
    for item in items:
        try:
            with transaction.atomic():
                act(item)
        except (*REFUSALS, DatabaseError) as error:
            reason = in_words(error, modeladmin.model)
            if reason is None:
                raise
            refused.append(f"{name(item)}: {reason}")
        else:
            done += 1
    summary = ngettext("%(done)d done", "%(done)d done", done) % {"done": done}
    summary += ", " + ngettext("%(refused)d refused", "%(refused)d refused", len(refused)) % {"refused": len(refused)}
    level = messages.SUCCESS if not refused else messages.WARNING if done else messages.ERROR
    modeladmin.message_user(request, " ".join([f"{summary}.", *refused]), level)


class ServiceRefusals:
    """A form saved through a service: the service's refusal comes back as a message on the same page."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            with transaction.atomic():
                return super().changeform_view(request, object_id, form_url, extra_context)
        except REFUSALS as error:
            self.message_user(request, in_words(error), messages.ERROR)
        return HttpResponseRedirect(request.get_full_path())
