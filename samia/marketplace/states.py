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


# Columns a transition may set; everything else about an order is fixed once it exists.
STATE_COLUMNS = (
    "status",
    "reader_id",
    "rejection_reason",
    "assigned_at",
    "started_at",
    "submitted_at",
    "decided_at",
    "delivered_at",
    "cancelled_at",
)
FIXED_COLUMNS = ("id", "client_id", "service_id", "question", "is_gold", "created_at")


def transition_guard_sql() -> str:
    """Return the trigger that makes Postgres enforce exactly these transitions on bound requests."""
    pairs = sorted({(source, t.target, role) for t in TRANSITIONS.values() for source in t.sources for role in t.roles})
    allowed = ", ".join(f"('{source}', '{target}', '{role}')" for source, target, role in pairs)
    fixed_new = ", ".join(f"NEW.{c}" for c in FIXED_COLUMNS)
    fixed_old = ", ".join(f"OLD.{c}" for c in FIXED_COLUMNS)
    state_new = ", ".join(f"NEW.{c}" for c in STATE_COLUMNS[1:])
    state_old = ", ".join(f"OLD.{c}" for c in STATE_COLUMNS[1:])
    return f"""
CREATE OR REPLACE FUNCTION samia.guard_order_change() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  IF samia.actor_id() IS NULL THEN
    RETURN NEW;  -- service role: migrations, jobs, management commands
  END IF;
  IF ({fixed_new}) IS DISTINCT FROM ({fixed_old}) THEN
    RAISE EXCEPTION 'an order''s client, service, question, priority and creation time are fixed'
      USING ERRCODE = '42501';
  END IF;
  IF NEW.status IS DISTINCT FROM OLD.status THEN
    IF (OLD.status, NEW.status, samia.actor_role()) NOT IN (VALUES {allowed}) THEN
      RAISE EXCEPTION 'order transition % -> % is not permitted to %', OLD.status, NEW.status, samia.actor_role()
        USING ERRCODE = '42501';
    END IF;
    IF NEW.reader_id IS DISTINCT FROM OLD.reader_id AND NOT (OLD.status = 'new' AND NEW.status = 'assigned') THEN
      RAISE EXCEPTION 'the reader is set only by assignment' USING ERRCODE = '42501';
    END IF;
  ELSIF ({state_new}) IS DISTINCT FROM ({state_old}) THEN
    RAISE EXCEPTION 'an order''s state changes only with a transition' USING ERRCODE = '42501';
  END IF;
  RETURN NEW;
END $$;

DROP TRIGGER IF EXISTS marketplace_order_guard_change ON public.marketplace_order;
CREATE TRIGGER marketplace_order_guard_change BEFORE UPDATE ON public.marketplace_order
  FOR EACH ROW EXECUTE FUNCTION samia.guard_order_change();
"""
