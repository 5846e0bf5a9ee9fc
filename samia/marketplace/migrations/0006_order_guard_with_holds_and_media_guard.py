# GUARD_SQL is transition_guard_sql() of samia/marketplace/states.py when this was written (with the
# moderation transitions hold, unlist and release); tests/marketplace/test_order_guard.py compares it.
# MEDIA_GUARD_SQL lets a monitor set a media asset's removed_at and nothing else.
import importlib

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
    IF (OLD.status, NEW.status, samia.actor_role()) NOT IN (VALUES ('approved', 'delivered', 'admin'), ('approved', 'delivered', 'superadmin'), ('approved', 'on_hold', 'admin'), ('approved', 'on_hold', 'monitor'), ('approved', 'on_hold', 'superadmin'), ('approved', 'unlisted', 'admin'), ('approved', 'unlisted', 'monitor'), ('approved', 'unlisted', 'superadmin'), ('assigned', 'cancelled', 'admin'), ('assigned', 'cancelled', 'client'), ('assigned', 'cancelled', 'superadmin'), ('assigned', 'in_progress', 'reader'), ('assigned', 'on_hold', 'admin'), ('assigned', 'on_hold', 'monitor'), ('assigned', 'on_hold', 'superadmin'), ('assigned', 'unlisted', 'admin'), ('assigned', 'unlisted', 'monitor'), ('assigned', 'unlisted', 'superadmin'), ('awaiting_approval', 'approved', 'admin'), ('awaiting_approval', 'approved', 'monitor'), ('awaiting_approval', 'approved', 'superadmin'), ('awaiting_approval', 'on_hold', 'admin'), ('awaiting_approval', 'on_hold', 'monitor'), ('awaiting_approval', 'on_hold', 'superadmin'), ('awaiting_approval', 'rejected', 'admin'), ('awaiting_approval', 'rejected', 'monitor'), ('awaiting_approval', 'rejected', 'superadmin'), ('awaiting_approval', 'unlisted', 'admin'), ('awaiting_approval', 'unlisted', 'monitor'), ('awaiting_approval', 'unlisted', 'superadmin'), ('in_progress', 'awaiting_approval', 'reader'), ('in_progress', 'on_hold', 'admin'), ('in_progress', 'on_hold', 'monitor'), ('in_progress', 'on_hold', 'superadmin'), ('in_progress', 'unlisted', 'admin'), ('in_progress', 'unlisted', 'monitor'), ('in_progress', 'unlisted', 'superadmin'), ('new', 'assigned', 'admin'), ('new', 'assigned', 'superadmin'), ('new', 'cancelled', 'admin'), ('new', 'cancelled', 'client'), ('new', 'cancelled', 'superadmin'), ('new', 'on_hold', 'admin'), ('new', 'on_hold', 'monitor'), ('new', 'on_hold', 'superadmin'), ('new', 'unlisted', 'admin'), ('new', 'unlisted', 'monitor'), ('new', 'unlisted', 'superadmin'), ('on_hold', 'approved', 'admin'), ('on_hold', 'approved', 'monitor'), ('on_hold', 'approved', 'superadmin'), ('on_hold', 'assigned', 'admin'), ('on_hold', 'assigned', 'monitor'), ('on_hold', 'assigned', 'superadmin'), ('on_hold', 'awaiting_approval', 'admin'), ('on_hold', 'awaiting_approval', 'monitor'), ('on_hold', 'awaiting_approval', 'superadmin'), ('on_hold', 'in_progress', 'admin'), ('on_hold', 'in_progress', 'monitor'), ('on_hold', 'in_progress', 'superadmin'), ('on_hold', 'new', 'admin'), ('on_hold', 'new', 'monitor'), ('on_hold', 'new', 'superadmin'), ('on_hold', 'rejected', 'admin'), ('on_hold', 'rejected', 'monitor'), ('on_hold', 'rejected', 'superadmin'), ('on_hold', 'unlisted', 'admin'), ('on_hold', 'unlisted', 'monitor'), ('on_hold', 'unlisted', 'superadmin'), ('rejected', 'awaiting_approval', 'reader'), ('rejected', 'on_hold', 'admin'), ('rejected', 'on_hold', 'monitor'), ('rejected', 'on_hold', 'superadmin'), ('rejected', 'unlisted', 'admin'), ('rejected', 'unlisted', 'monitor'), ('rejected', 'unlisted', 'superadmin'), ('unlisted', 'approved', 'admin'), ('unlisted', 'approved', 'monitor'), ('unlisted', 'approved', 'superadmin'), ('unlisted', 'assigned', 'admin'), ('unlisted', 'assigned', 'monitor'), ('unlisted', 'assigned', 'superadmin'), ('unlisted', 'awaiting_approval', 'admin'), ('unlisted', 'awaiting_approval', 'monitor'), ('unlisted', 'awaiting_approval', 'superadmin'), ('unlisted', 'in_progress', 'admin'), ('unlisted', 'in_progress', 'monitor'), ('unlisted', 'in_progress', 'superadmin'), ('unlisted', 'new', 'admin'), ('unlisted', 'new', 'monitor'), ('unlisted', 'new', 'superadmin'), ('unlisted', 'rejected', 'admin'), ('unlisted', 'rejected', 'monitor'), ('unlisted', 'rejected', 'superadmin')) THEN
      RAISE EXCEPTION 'order transition % -> % is not permitted to %', OLD.status, NEW.status, samia.actor_role()
        USING ERRCODE = '42501';
    END IF;
    IF NEW.reader_id IS DISTINCT FROM OLD.reader_id AND NOT (OLD.status = 'new' AND NEW.status = 'assigned') THEN
      RAISE EXCEPTION 'the reader is set only by assignment' USING ERRCODE = '42501';
    END IF;
    -- A held order remembers where it was and goes back exactly there.
    IF NEW.status IN ('on_hold', 'unlisted') AND OLD.status NOT IN ('on_hold', 'unlisted') THEN
      NEW.held_from := OLD.status;
    ELSIF NEW.status IN ('on_hold', 'unlisted') THEN
      NEW.held_from := OLD.held_from;
    ELSIF OLD.status IN ('on_hold', 'unlisted') THEN
      IF NEW.status IS DISTINCT FROM OLD.held_from THEN
        RAISE EXCEPTION 'a held order is released only to %', OLD.held_from USING ERRCODE = '42501';
      END IF;
      NEW.held_from := '';
    END IF;
  ELSIF (NEW.reader_id, NEW.rejection_reason, NEW.assigned_at, NEW.started_at, NEW.submitted_at, NEW.decided_at, NEW.delivered_at, NEW.cancelled_at, NEW.held_from, NEW.held_at, NEW.released_at) IS DISTINCT FROM (OLD.reader_id, OLD.rejection_reason, OLD.assigned_at, OLD.started_at, OLD.submitted_at, OLD.decided_at, OLD.delivered_at, OLD.cancelled_at, OLD.held_from, OLD.held_at, OLD.released_at) THEN
    RAISE EXCEPTION 'an order''s state changes only with a transition' USING ERRCODE = '42501';
  END IF;
  RETURN NEW;
END $$;

DROP TRIGGER IF EXISTS marketplace_order_guard_change ON public.marketplace_order;
CREATE TRIGGER marketplace_order_guard_change BEFORE UPDATE ON public.marketplace_order
  FOR EACH ROW EXECUTE FUNCTION samia.guard_order_change();
"""

MEDIA_GUARD_SQL = """
CREATE OR REPLACE FUNCTION samia.guard_media_change() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  IF samia.actor_role() = 'monitor'
     AND (to_jsonb(NEW) - 'removed_at') IS DISTINCT FROM (to_jsonb(OLD) - 'removed_at') THEN
    RAISE EXCEPTION 'a monitor only removes media' USING ERRCODE = '42501';
  END IF;
  RETURN NEW;
END $$;

DROP TRIGGER IF EXISTS marketplace_media_guard_change ON public.marketplace_mediaasset;
CREATE TRIGGER marketplace_media_guard_change BEFORE UPDATE ON public.marketplace_mediaasset
  FOR EACH ROW EXECUTE FUNCTION samia.guard_media_change();
"""

MEDIA_BACKWARD = """
DROP TRIGGER IF EXISTS marketplace_media_guard_change ON public.marketplace_mediaasset;
DROP FUNCTION IF EXISTS samia.guard_media_change();
"""

PREVIOUS_GUARD_SQL = importlib.import_module("samia.marketplace.migrations.0003_order_transition_guard").GUARD_SQL


class Migration(migrations.Migration):
    dependencies = [("marketplace", "0005_order_hold_and_media_removal")]
    operations = [
        migrations.RunSQL(GUARD_SQL, PREVIOUS_GUARD_SQL),
        migrations.RunSQL(MEDIA_GUARD_SQL, MEDIA_BACKWARD),
    ]
