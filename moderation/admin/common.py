"""What the case and appeal pages share: who is offered an action, how a refusal reads, the subject's history."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django import forms
from django.contrib import messages
from django.db import transaction
from django.db.models import Q
from django.utils.html import format_html
from django.utils.translation import gettext_lazy

from moderation import policies
from moderation.models import ModerationAction, ReasonCode
from samia.exceptions import Conflict
from samia.marketplace import selectors as marketplace_selectors
from samia.rls.admin import REFUSALS, service_refusal
from samia.rls.registry import Identity

RECENT = 10


@dataclass(frozen=True)
class Offer:
    """One button on a change page: offered when every access object admits the role and the row's state allows it."""

    name: str
    label: str
    access: tuple = ()
    form: Callable[..., forms.Form] = forms.Form
    state: bool = True
    initial: dict = field(default_factory=dict)

    def admits(self, identity: Identity) -> bool:
        return self.state and all(identity.persona in access.roles() for access in self.access)


class ReasonField(forms.ModelChoiceField):
    def __init__(self, **kwargs):
        super().__init__(queryset=ReasonCode.objects.filter(is_active=True), to_field_name="code", **kwargs)

    def label_from_instance(self, obj):
        return obj.label


class ReasonInput(forms.Form):
    reason = ReasonField(label=gettext_lazy("Reason"))


def bound_forms(offers: list[Offer], identity: Identity) -> list[dict]:
    """The offers `identity` may take, each with an unbound form prefixed by its name (one page, many forms)."""
    return [
        {"name": o.name, "label": o.label, "form": o.form(prefix=o.name, initial=o.initial)}
        for o in offers
        if o.admits(identity)
    ]


def attempt(modeladmin, request, work) -> bool:
    """Run `work()` in a savepoint and tell the person what it says was done, or in words why it was refused."""
    try:
        with transaction.atomic():
            said = work()
    except REFUSALS as error:
        reason = service_refusal(error, modeladmin.model)
        if reason is None:
            raise
        # A conflict means the row moved on (already resolved, decided, escalated): a warning, not a failure.
        level = messages.WARNING if isinstance(error, Conflict) else messages.ERROR
        modeladmin.message_user(request, reason, level)
        return False
    modeladmin.message_user(request, said, messages.SUCCESS)
    return True


def user_text(value: str):
    """User-written text (notes, statements) in its own direction: Arabic reads right-to-left."""
    return format_html('<div dir="auto">{}</div>', value) if value else "-"


def subject_history(identity: Identity, subject_id: int | None) -> dict:
    """The subject's recent orders, payments and moderation actions, as `identity` may read them."""
    if subject_id is None:
        return {}
    party = Q(client_id=subject_id) | Q(reader_id=subject_id)
    orders = marketplace_selectors.order_list(identity=identity).filter(party).select_related("service")
    payments = marketplace_selectors.payment_list(identity=identity).filter(
        Q(order__client_id=subject_id) | Q(order__reader_id=subject_id)
    )
    actions = (
        policies.ACTIONS.scope(ModerationAction.objects.all(), identity)
        .filter(subject_id=subject_id)
        .select_related("reason", "actor")
        .order_by("-id")
    )
    return {
        "has_subject": True,
        "subject_orders": orders[:RECENT],
        "subject_payments": payments[:RECENT],
        "subject_actions": actions[: RECENT * 2],
    }
