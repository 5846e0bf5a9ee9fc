"""The order state machine: which action moves an order from where to where, and who may take it."""

from typing import NamedTuple

from django.db import models

from samia.rls.registry import ADMINS


class OrderStatus(models.TextChoices):
    NEW = "new", "New"
    ASSIGNED = "assigned", "Assigned"
    IN_PROGRESS = "in_progress", "In progress"
    AWAITING_APPROVAL = "awaiting_approval", "Awaiting approval"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    DELIVERED = "delivered", "Delivered"
    CANCELLED = "cancelled", "Cancelled"


class Transition(NamedTuple):
    sources: tuple[str, ...]
    target: str
    stamp: str  # the timestamp field the transition sets
    roles: tuple[str, ...]


S = OrderStatus
TRANSITIONS: dict[str, Transition] = {
    "assign": Transition((S.NEW,), S.ASSIGNED, "assigned_at", ADMINS),
    "start": Transition((S.ASSIGNED,), S.IN_PROGRESS, "started_at", ("reader",)),
    "submit": Transition((S.IN_PROGRESS, S.REJECTED), S.AWAITING_APPROVAL, "submitted_at", ("reader",)),
    "approve": Transition((S.AWAITING_APPROVAL,), S.APPROVED, "decided_at", ("monitor", *ADMINS)),
    "reject": Transition((S.AWAITING_APPROVAL,), S.REJECTED, "decided_at", ("monitor", *ADMINS)),
    "deliver": Transition((S.APPROVED,), S.DELIVERED, "delivered_at", ADMINS),
    "cancel": Transition((S.NEW, S.ASSIGNED), S.CANCELLED, "cancelled_at", ("client", *ADMINS)),
}
