from django.db import migrations

# Chaining moves out of the writer's commit: the writer commits its entry unchained (no lock),
# then a short transaction of its own (and a one-minute backstop) chains every committed entry
# still waiting, in one batch under the chain lock. Audited writers no longer queue behind each
# other's WAL flush; the lock covers one batch, never a request.
FORWARD = r"""
DROP TRIGGER IF EXISTS audit_chain ON audit_auditentry;
DROP FUNCTION IF EXISTS samia.audit_chain();

CREATE INDEX IF NOT EXISTS audit_unchained_idx ON audit_auditentry (id) WHERE seq IS NULL;

CREATE OR REPLACE FUNCTION samia.audit_chain_pending(max_rows int DEFAULT 100000) RETURNS int
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
  head_seq bigint;
  head_hash text;
  next_hash text;
  entry record;
  chained int := 0;
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
  FOR entry IN SELECT id, payload FROM audit_auditentry WHERE seq IS NULL ORDER BY id LIMIT max_rows LOOP
    head_seq := head_seq + 1;
    next_hash := encode(sha256(convert_to(head_hash || entry.payload, 'UTF8')), 'hex');
    UPDATE audit_auditentry SET seq = head_seq, prev_hash = head_hash, row_hash = next_hash WHERE id = entry.id;
    head_hash := next_hash;
    chained := chained + 1;
  END LOOP;
  PERFORM set_config('samia.audit_chaining', '', true);
  RETURN chained;
END $$;

REVOKE ALL ON FUNCTION samia.audit_chain_pending(int) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION samia.audit_chain_pending(int) TO samia_app;
"""

BACKWARD = r"""
DROP FUNCTION IF EXISTS samia.audit_chain_pending(int);
DROP INDEX IF EXISTS audit_unchained_idx;

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

CREATE CONSTRAINT TRIGGER audit_chain AFTER INSERT ON audit_auditentry
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION samia.audit_chain();
REVOKE ALL ON FUNCTION samia.audit_chain() FROM PUBLIC;
"""


class Migration(migrations.Migration):
    dependencies = [("audit", "0007_rls_policies")]
    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
