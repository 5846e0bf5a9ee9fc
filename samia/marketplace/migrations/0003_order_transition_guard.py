# GUARD_SQL is transition_guard_sql() of samia/marketplace/states.py when this was written;
# tests/marketplace/test_order_guard.py fails when they differ: then write a new migration.
from django.db import migrations

GUARD_SQL = """
CREATE OR REPLACE FUNCTION samia.guard_order_change() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  IF samia.actor_id() IS NULL THEN
    RETURN NEW;  -- service role: migrations, jobs, management commands
  END IF;
  IF (NEW.id, NEW.client_id, NEW.service_id, NEW.question, NEW.is_gold, NEW.created_at) IS DISTINCT FROM (OLD.id, OLD.client_id, OLD.service_id, OLD.question, OLD.is_gold, OLD.created_at) THEN
    RAISE EXCEPTION 'an order''s client, service, question, priority and creation time are fixed'
      USING ERRCODE = '42501';
  END IF;
  IF NEW.status IS DISTINCT FROM OLD.status THEN
    IF (OLD.status, NEW.status, samia.actor_role()) NOT IN (VALUES ('approved', 'delivered', 'admin'), ('approved', 'delivered', 'superadmin'), ('assigned', 'cancelled', 'admin'), ('assigned', 'cancelled', 'client'), ('assigned', 'cancelled', 'superadmin'), ('assigned', 'in_progress', 'reader'), ('awaiting_approval', 'approved', 'admin'), ('awaiting_approval', 'approved', 'monitor'), ('awaiting_approval', 'approved', 'superadmin'), ('awaiting_approval', 'rejected', 'admin'), ('awaiting_approval', 'rejected', 'monitor'), ('awaiting_approval', 'rejected', 'superadmin'), ('in_progress', 'awaiting_approval', 'reader'), ('new', 'assigned', 'admin'), ('new', 'assigned', 'superadmin'), ('new', 'cancelled', 'admin'), ('new', 'cancelled', 'client'), ('new', 'cancelled', 'superadmin'), ('rejected', 'awaiting_approval', 'reader')) THEN
      RAISE EXCEPTION 'order transition % -> % is not permitted to %', OLD.status, NEW.status, samia.actor_role()
        USING ERRCODE = '42501';
    END IF;
    IF NEW.reader_id IS DISTINCT FROM OLD.reader_id AND NOT (OLD.status = 'new' AND NEW.status = 'assigned') THEN
      RAISE EXCEPTION 'the reader is set only by assignment' USING ERRCODE = '42501';
    END IF;
  ELSIF (NEW.reader_id, NEW.rejection_reason, NEW.assigned_at, NEW.started_at, NEW.submitted_at, NEW.decided_at, NEW.delivered_at, NEW.cancelled_at) IS DISTINCT FROM (OLD.reader_id, OLD.rejection_reason, OLD.assigned_at, OLD.started_at, OLD.submitted_at, OLD.decided_at, OLD.delivered_at, OLD.cancelled_at) THEN
    RAISE EXCEPTION 'an order''s state changes only with a transition' USING ERRCODE = '42501';
  END IF;
  RETURN NEW;
END $$;

DROP TRIGGER IF EXISTS marketplace_order_guard_change ON public.marketplace_order;
CREATE TRIGGER marketplace_order_guard_change BEFORE UPDATE ON public.marketplace_order
  FOR EACH ROW EXECUTE FUNCTION samia.guard_order_change();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS marketplace_order_guard_change ON public.marketplace_order;
DROP FUNCTION IF EXISTS samia.guard_order_change();
"""


class Migration(migrations.Migration):
    dependencies = [("marketplace", "0002_rls_policies")]
    operations = [migrations.RunSQL(GUARD_SQL, BACKWARD)]
