from django.db import migrations

# Group chaining. Before: every audited commit waited for the chain lock and held it through its
# own WAL flush, so audited commits were flushed one at a time, each behind the last one's wake-up.
# Now a committing transaction only *tries* the lock: whoever holds it chains, in one pass, its own
# rows and every committed row still waiting (oldest id first); a transaction that finds the lock
# taken commits at once and leaves its rows to the next holder, or to the sweep
# (samia.audit.chain_pending, every 10 s, which waits for the lock). Commits flush in parallel again;
# the chain still has one head and no gap, because only the lock holder chains and it reads the
# head after the previous holder's commit is visible.
FORWARD = r"""
-- The rows that still wait for their place: a small partial index (an index scan over it also
-- marks the entries of rows chained since as dead, so it stays small between vacuums).
CREATE INDEX audit_unchained_idx ON audit_auditentry (id) WHERE seq IS NULL;

-- Chain every row that has no place yet, oldest id first. The caller holds the chain lock.
-- The hashes are computed in a loop (each depends on the one before); the rows are then updated in
-- one statement, which costs far less per row than an UPDATE statement per row.
CREATE OR REPLACE FUNCTION samia.audit_chain_pending() RETURNS integer
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
  ids bigint[];
  payloads text[];
  seqs bigint[] := '{}';
  prevs text[] := '{}';
  hashes text[] := '{}';
  head_seq bigint;
  head_hash text;
BEGIN
  SELECT array_agg(id ORDER BY id), array_agg(payload ORDER BY id) INTO ids, payloads
    FROM audit_auditentry WHERE seq IS NULL;
  IF ids IS NULL THEN
    RETURN 0;
  END IF;
  SELECT seq, row_hash INTO head_seq, head_hash
    FROM audit_auditentry WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1;
  IF head_seq IS NULL THEN
    SELECT seq, row_hash INTO head_seq, head_hash FROM audit_auditanchor ORDER BY seq DESC LIMIT 1;
  END IF;
  head_seq := coalesce(head_seq, 0);
  head_hash := coalesce(head_hash, repeat('0', 64));
  FOR i IN 1 .. cardinality(ids) LOOP
    seqs[i] := head_seq + i;
    prevs[i] := head_hash;
    head_hash := encode(sha256(convert_to(head_hash || payloads[i], 'UTF8')), 'hex');
    hashes[i] := head_hash;
  END LOOP;
  PERFORM set_config('samia.audit_chaining', 'on', true);
  UPDATE audit_auditentry e
     SET seq = c.seq, prev_hash = c.prev_hash, row_hash = c.row_hash
    FROM unnest(ids, seqs, prevs, hashes) AS c(id, seq, prev_hash, row_hash)
   WHERE e.id = c.id;
  PERFORM set_config('samia.audit_chaining', '', true);
  RETURN cardinality(ids);
END $$;

-- At commit (a deferred constraint trigger): chain if the lock is free, else leave the rows to
-- the holder after it or to the sweep. Under REPEATABLE READ or SERIALIZABLE the transaction's
-- snapshot could be older than the head, so such a transaction never chains; its rows wait.
CREATE OR REPLACE FUNCTION samia.audit_chain() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
  -- The first of a transaction's rows to get here chains them all; the others find nothing left.
  IF current_setting('transaction_isolation') = 'read committed'
     AND pg_try_advisory_xact_lock(hashtext('samia.audit.chain')) THEN
    PERFORM samia.audit_chain_pending();
  END IF;
  RETURN NULL;
END $$;

-- The sweep: wait for the lock, then chain whatever is waiting. Its own transaction.
CREATE OR REPLACE FUNCTION samia.audit_chain_sweep() RETURNS integer
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    RAISE EXCEPTION 'the audit chain is swept under READ COMMITTED only';
  END IF;
  PERFORM pg_advisory_xact_lock(hashtext('samia.audit.chain'));
  RETURN samia.audit_chain_pending();
END $$;

REVOKE ALL ON FUNCTION samia.audit_chain_pending() FROM PUBLIC;
REVOKE ALL ON FUNCTION samia.audit_chain_sweep() FROM PUBLIC;
-- Signing a checkpoint (an admin's request, under RLS) sweeps first, so that it signs a current head.
GRANT EXECUTE ON FUNCTION samia.audit_chain_sweep() TO samia_app;
"""

BACKWARD = r"""
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
DROP FUNCTION IF EXISTS samia.audit_chain_sweep();
DROP FUNCTION IF EXISTS samia.audit_chain_pending();
DROP INDEX IF EXISTS audit_unchained_idx;
"""


def install_sweep(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    interval, _ = IntervalSchedule.objects.get_or_create(every=10, period="seconds")
    PeriodicTask.objects.update_or_create(
        name="samia.audit.chain_pending",
        defaults={"task": "samia.audit.chain_pending", "interval": interval, "enabled": True, "expire_seconds": 20},
    )


def uninstall_sweep(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name="samia.audit.chain_pending").delete()


class Migration(migrations.Migration):
    dependencies = [("audit", "0008_generated_payload_columns"), ("django_celery_beat", "0019_alter_periodictasks_options")]
    operations = [migrations.RunSQL(FORWARD, BACKWARD), migrations.RunPython(install_sweep, uninstall_sweep)]
