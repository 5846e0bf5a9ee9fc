from django.db import migrations

FORWARD = r"""
-- Rows arrive without a place in the chain; the database gives them one at commit.
CREATE OR REPLACE FUNCTION samia.audit_before_insert() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  NEW.seq := NULL;
  NEW.prev_hash := NULL;
  NEW.row_hash := NULL;
  RETURN NEW;
END $$;

-- At commit: take the chain lock (held only until this commit ends), read the head and
-- link the row to it. Rows chain in commit order; concurrent writers queue here, never fork.
CREATE OR REPLACE FUNCTION samia.audit_chain() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
  head_seq bigint;
  head_hash text;
BEGIN
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    RAISE EXCEPTION 'audit entries are chained under READ COMMITTED only';
  END IF;
  PERFORM pg_advisory_xact_lock(hashtext('samia.audit.chain'));
  SELECT seq, row_hash INTO head_seq, head_hash
    FROM audit_auditentry WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1;
  IF head_seq IS NULL THEN
    SELECT seq, row_hash INTO head_seq, head_hash FROM audit_auditanchor ORDER BY seq DESC LIMIT 1;
  END IF;
  head_seq := coalesce(head_seq, 0);
  head_hash := coalesce(head_hash, repeat('0', 64));
  PERFORM set_config('samia.audit_chaining', 'on', true);
  UPDATE audit_auditentry
     SET seq = head_seq + 1,
         prev_hash = head_hash,
         row_hash = encode(sha256(convert_to(head_hash || payload, 'UTF8')), 'hex')
   WHERE id = NEW.id;
  PERFORM set_config('samia.audit_chaining', '', true);
  RETURN NULL;
END $$;

-- Append-only: no UPDATE, DELETE or TRUNCATE, for anyone, except the chaining step above
-- (which only fills an unchained row's place), the retention purge of rows behind an anchor
-- (which the purge writes only for ranges covered by a signed export), and truncating an
-- already empty table (test databases are flushed that way).
CREATE OR REPLACE FUNCTION samia.audit_append_only() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND current_setting('samia.audit_chaining', true) = 'on' AND OLD.seq IS NULL
     AND (NEW.id, NEW.occurred_at, NEW.actor_id, NEW.actor_role, NEW.action, NEW.family, NEW.target_type,
          NEW.target_id, NEW.outcome, NEW.request_id, NEW.details, NEW.payload)
         IS NOT DISTINCT FROM
         (OLD.id, OLD.occurred_at, OLD.actor_id, OLD.actor_role, OLD.action, OLD.family, OLD.target_type,
          OLD.target_id, OLD.outcome, OLD.request_id, OLD.details, OLD.payload) THEN
    RETURN NEW;
  END IF;
  IF TG_OP = 'DELETE' AND current_setting('samia.audit_purging', true) = 'on'
     AND OLD.seq <= (SELECT max(seq) FROM audit_auditanchor) THEN
    RETURN OLD;
  END IF;
  IF TG_OP = 'TRUNCATE' AND NOT EXISTS (SELECT 1 FROM audit_auditentry) THEN
    RETURN NULL;
  END IF;
  RAISE EXCEPTION 'the audit trail is append-only' USING ERRCODE = '42501';
END $$;

CREATE TRIGGER audit_before_insert BEFORE INSERT ON audit_auditentry
  FOR EACH ROW EXECUTE FUNCTION samia.audit_before_insert();
CREATE CONSTRAINT TRIGGER audit_chain AFTER INSERT ON audit_auditentry
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION samia.audit_chain();
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit_auditentry
  FOR EACH ROW EXECUTE FUNCTION samia.audit_append_only();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit_auditentry
  FOR EACH STATEMENT EXECUTE FUNCTION samia.audit_append_only();
REVOKE ALL ON FUNCTION samia.audit_chain() FROM PUBLIC;
"""

BACKWARD = r"""
DROP TRIGGER IF EXISTS audit_no_truncate ON audit_auditentry;
DROP TRIGGER IF EXISTS audit_append_only ON audit_auditentry;
DROP TRIGGER IF EXISTS audit_chain ON audit_auditentry;
DROP TRIGGER IF EXISTS audit_before_insert ON audit_auditentry;
DROP FUNCTION IF EXISTS samia.audit_append_only();
DROP FUNCTION IF EXISTS samia.audit_chain();
DROP FUNCTION IF EXISTS samia.audit_before_insert();
"""


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial"), ("rls", "0001_app_role_and_identity_helpers")]
    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
