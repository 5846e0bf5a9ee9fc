"""The SQL of moderation: a user's block changes only with the moderation action that explains it.

Migrations freeze a rendering of these templates (moderation 0010, 0013); tests/rls/test_function_templates.py
fails when a template changes without a migration that carries it.
"""

# ---------------------------------------------------------------------------------------------
# At commit (a deferred constraint trigger on accounts_user), every change of blocked_at or
# blocked_until made under an identity must be explained by a moderation row that the same actor
# wrote in the same transaction:
# - a block (blocked_at set): a 'block' action on this subject by the actor, expiring when the block does,
#   or (an appeal decided as 'modify': the block shortened or lengthened) a block action on this subject,
#   changed in this transaction to expire when the block now does, whose appeal the actor decided
#   as 'modify' in this transaction; blocked_at itself stays as it was (the block's start);
# - an unblock (blocked_at cleared): an 'unblock' action by the actor, who must be an admin or above,
#   or an appeal the actor decided as 'overturn', lifting a block action on this subject.
# "Written in this transaction": the row is visible and its xmin (the top transaction or one of its
# subtransactions, i.e. Django savepoints) is still in progress; another transaction's uncommitted
# rows are invisible, so only ours qualify. xmin is 32-bit: it is widened to the xid8 that
# pg_xact_status takes using the epoch of the current transaction id.
# Changes made with no identity (the block-expiry sweep, migrations, commands) are the owner's.

BLOCK_EXPLAINED = r"""
CREATE OR REPLACE FUNCTION samia.written_in_this_transaction(row_xmin xid) RETURNS boolean
  LANGUAGE sql VOLATILE AS $$
  SELECT pg_xact_status((t.top - ((t.top - row_xmin::text::bigint) % 4294967296 + 6442450944) % 4294967296
                         + 2147483648)::text::xid8) = 'in progress'
    FROM (SELECT pg_current_xact_id()::text::bigint AS top) t $$;

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

CREATE CONSTRAINT TRIGGER moderation_user_block_explained AFTER UPDATE OF blocked_at, blocked_until
  ON public.accounts_user DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
  WHEN ((NEW.blocked_at, NEW.blocked_until) IS DISTINCT FROM (OLD.blocked_at, OLD.blocked_until))
  EXECUTE FUNCTION samia.moderation_block_explained();
"""
