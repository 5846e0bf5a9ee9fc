from django.db import migrations

# An appeal decided as 'modify' may change a block's expiry: the block action, changed in the same
# transaction, and the appeal decided by the same actor explain it. Rendering of the function in
# moderation.sql.BLOCK_EXPLAINED; backward restores 0010's.
FORWARD = r"""
CREATE OR REPLACE FUNCTION samia.moderation_block_explained() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
  actor bigint := samia.actor_id();
  explained boolean;
BEGIN
  IF actor IS NULL THEN
    RETURN NULL;
  END IF;
  IF NEW.blocked_at IS NOT NULL THEN
    SELECT EXISTS (
      SELECT 1 FROM moderation_moderationaction a
       WHERE a.subject_id = NEW.id AND a.actor_id = actor AND a.action = 'block'
         AND a.expires_at IS NOT DISTINCT FROM NEW.blocked_until
         AND samia.written_in_this_transaction(a.xmin)
    ) OR EXISTS (
      SELECT 1 FROM moderation_moderationaction a JOIN moderation_appeal p ON p.action_id = a.id
       WHERE a.subject_id = NEW.id AND a.action = 'block' AND a.lifted_at IS NULL
         AND a.expires_at IS NOT DISTINCT FROM NEW.blocked_until
         AND NEW.blocked_at IS NOT DISTINCT FROM OLD.blocked_at
         AND p.decided_by_id = actor AND p.decision = 'modify'
         AND samia.written_in_this_transaction(a.xmin) AND samia.written_in_this_transaction(p.xmin)
    ) INTO explained;
  ELSE
    SELECT EXISTS (
      SELECT 1 FROM moderation_moderationaction a
       WHERE a.subject_id = NEW.id AND a.actor_id = actor AND a.action = 'unblock'
         AND samia.actor_role() IN ('admin', 'superadmin')
         AND samia.written_in_this_transaction(a.xmin)
    ) OR EXISTS (
      SELECT 1 FROM moderation_moderationaction a JOIN moderation_appeal p ON p.action_id = a.id
       WHERE a.subject_id = NEW.id AND a.action = 'block' AND a.lifted_by_id = actor
         AND a.lift_reason = 'overturned' AND p.decided_by_id = actor AND p.decision = 'overturn'
         AND samia.written_in_this_transaction(p.xmin)
    ) INTO explained;
  END IF;
  IF NOT explained THEN
    RAISE EXCEPTION 'a block changes only with the moderation action that explains it' USING ERRCODE = '42501';
  END IF;
  RETURN NULL;
END $$;
"""

BACKWARD = r"""
CREATE OR REPLACE FUNCTION samia.moderation_block_explained() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
  actor bigint := samia.actor_id();
  explained boolean;
BEGIN
  IF actor IS NULL THEN
    RETURN NULL;
  END IF;
  IF NEW.blocked_at IS NOT NULL THEN
    SELECT EXISTS (
      SELECT 1 FROM moderation_moderationaction a
       WHERE a.subject_id = NEW.id AND a.actor_id = actor AND a.action = 'block'
         AND a.expires_at IS NOT DISTINCT FROM NEW.blocked_until
         AND samia.written_in_this_transaction(a.xmin)
    ) INTO explained;
  ELSE
    SELECT EXISTS (
      SELECT 1 FROM moderation_moderationaction a
       WHERE a.subject_id = NEW.id AND a.actor_id = actor AND a.action = 'unblock'
         AND samia.actor_role() IN ('admin', 'superadmin')
         AND samia.written_in_this_transaction(a.xmin)
    ) OR EXISTS (
      SELECT 1 FROM moderation_moderationaction a JOIN moderation_appeal p ON p.action_id = a.id
       WHERE a.subject_id = NEW.id AND a.action = 'block' AND a.lifted_by_id = actor
         AND a.lift_reason = 'overturned' AND p.decided_by_id = actor AND p.decision = 'overturn'
         AND samia.written_in_this_transaction(p.xmin)
    ) INTO explained;
  END IF;
  IF NOT explained THEN
    RAISE EXCEPTION 'a block changes only with the moderation action that explains it' USING ERRCODE = '42501';
  END IF;
  RETURN NULL;
END $$;
"""


class Migration(migrations.Migration):
    dependencies = [("moderation", "0012_rls_policies")]
    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
