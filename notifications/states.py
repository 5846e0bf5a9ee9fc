"""The delivery states of a send, and the only moves between them (forward, never back).

`FORWARD` is the single source: the services move sends along it, and a Postgres trigger
generated from it (`state_guard_sql`) refuses any other change, whoever makes it.
"""

from __future__ import annotations

from notifications.models import Send

S = Send.State

# Before the provider has it: the dispatcher may still decide not to send.
NOT_SENT = (S.SUPPRESSED, S.OPTED_OUT, S.SKIPPED_QUIET_HOURS, S.EXPIRED, S.CANCELLED, S.FAILED)
# After the provider accepted it: what its receipts and our tracking may still tell us.
AFTER_SENT = {
    S.SENT: (S.DELIVERED, S.OPENED, S.CLICKED, S.FAILED, S.BOUNCED),
    S.DELIVERED: (S.OPENED, S.CLICKED, S.BOUNCED),
    S.OPENED: (S.CLICKED,),
    # A late receipt may settle an unknown outcome.
    S.UNKNOWN: (S.SENT, S.DELIVERED, S.OPENED, S.CLICKED, S.FAILED, S.BOUNCED),
}

FORWARD: dict[str, tuple[str, ...]] = {
    S.PLANNED: (S.QUEUED, *NOT_SENT),
    # queued -> queued is a retry (attempts grows; the state does not move back).
    S.QUEUED: (S.QUEUED, S.SENT, S.UNKNOWN, *NOT_SENT),
    **AFTER_SENT,
}


def allowed(source: str, target: str) -> bool:
    return source == target or target in FORWARD.get(source, ())


def state_guard_sql(table: str = "notifications_send") -> str:
    """A trigger that admits exactly the moves in FORWARD."""
    pairs = ", ".join(f"('{a}','{b}')" for a, targets in FORWARD.items() for b in targets)
    return f"""
CREATE OR REPLACE FUNCTION notifications_send_state_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.state IS DISTINCT FROM OLD.state
       AND (OLD.state, NEW.state) NOT IN (VALUES {pairs}) THEN
        RAISE EXCEPTION 'send % cannot move from % to %', OLD.id, OLD.state, NEW.state
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;
DROP TRIGGER IF EXISTS notifications_send_state_guard ON {table};
CREATE TRIGGER notifications_send_state_guard BEFORE UPDATE OF state ON {table}
    FOR EACH ROW EXECUTE FUNCTION notifications_send_state_guard();
"""
