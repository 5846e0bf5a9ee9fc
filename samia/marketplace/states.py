"""The order state machine: which action moves an order from where to where, and who may take it."""

from typing import NamedTuple

from django.db import models
from django.utils.translation import gettext_lazy as _

from samia.rls.registry import ADMINS, STAFF


class OrderStatus(models.TextChoices):
    NEW = "new", _("New")
    ASSIGNED = "assigned", _("Assigned")
    IN_PROGRESS = "in_progress", _("In progress")
    AWAITING_APPROVAL = "awaiting_approval", _("Awaiting approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    DELIVERED = "delivered", _("Delivered")
    CANCELLED = "cancelled", _("Cancelled")
    ON_HOLD = "on_hold", _("On hold")
    UNLISTED = "unlisted", _("Unlisted")


class Transition(NamedTuple):
    sources: tuple[str, ...]
    target: str | None  # None: back to the state the order was held from (`held_from`)
    stamp: str  # the timestamp field the transition sets
    roles: tuple[str, ...]

    @property
    def targets(self) -> tuple[str, ...]:
        """Every state the transition may lead to."""
        return (self.target,) if self.target else HOLDABLE


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

# Moderation takes an order out of the flow and puts it back exactly where it was. These
# transitions have no /orders route: moderation.services takes them, with a case and a reason.
HOLDABLE = (S.NEW, S.ASSIGNED, S.IN_PROGRESS, S.AWAITING_APPROVAL, S.APPROVED, S.REJECTED)
HELD = (S.ON_HOLD, S.UNLISTED)
MODERATION_TRANSITIONS: dict[str, Transition] = {
    "hold": Transition(HOLDABLE, S.ON_HOLD, "held_at", STAFF),
    "unlist": Transition((*HOLDABLE, S.ON_HOLD), S.UNLISTED, "held_at", STAFF),
    "release": Transition(HELD, None, "released_at", STAFF),
}
ALL_TRANSITIONS = {**TRANSITIONS, **MODERATION_TRANSITIONS}
# Readers lose sight of an unlisted order; its client still sees it.
READER_VISIBLE = tuple(s for s in OrderStatus.values if s != S.UNLISTED)


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
    "held_from",
    "held_at",
    "released_at",
)
FIXED_COLUMNS = ("id", "client_id", "service_id", "question", "is_gold", "created_at")


def transition_guard_sql() -> str:
    """Return the trigger that makes Postgres enforce exactly these transitions on bound requests."""
    pairs = sorted(
        {
            (s, target, role)
            for t in ALL_TRANSITIONS.values()
            for s in t.sources
            for target in t.targets
            for role in t.roles
        }
    )
    held = ", ".join(f"'{s}'" for s in HELD)
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
    -- A held order remembers where it was and goes back exactly there.
    IF NEW.status IN ({held}) AND OLD.status NOT IN ({held}) THEN
      NEW.held_from := OLD.status;
    ELSIF NEW.status IN ({held}) THEN
      NEW.held_from := OLD.held_from;
    ELSIF OLD.status IN ({held}) THEN
      IF NEW.status IS DISTINCT FROM OLD.held_from THEN
        RAISE EXCEPTION 'a held order is released only to %', OLD.held_from USING ERRCODE = '42501';
      END IF;
      NEW.held_from := '';
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
