"""The SQL functions and triggers that keep the audit trail chained and append-only.

Migrations freeze a rendering of these templates (audit 0002, 0005, 0008, 0009, 0014);
tests/rls/test_function_templates.py fails when a template changes without a migration that carries it.
"""

# ---------------------------------------------------------------------------------------------
# Rows arrive without a place in the chain; the database gives them one at commit.

BEFORE_INSERT = r"""
CREATE OR REPLACE FUNCTION samia.audit_before_insert() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  NEW.seq := NULL;
  NEW.prev_hash := NULL;
  NEW.row_hash := NULL;
  RETURN NEW;
END $$;

CREATE TRIGGER audit_before_insert BEFORE INSERT ON audit_auditentry
  FOR EACH ROW EXECUTE FUNCTION samia.audit_before_insert();
"""

# ---------------------------------------------------------------------------------------------
# Group chaining. A committing transaction only *tries* the chain lock: whoever holds it chains, in
# one pass, its own rows and every committed row still waiting (oldest id first); a transaction that
# finds the lock taken commits at once and leaves its rows to the next holder, or to the sweep
# (samia.audit.chain_pending, every 10 s, which waits for the lock). The chain has one head and no
# gap, because only the lock holder chains and it reads the head after the previous holder's commit
# is visible. The hashes are computed in a loop (each depends on the one before); the rows are then
# updated in one statement, which costs far less per row than an UPDATE statement per row.

CHAIN_PENDING = r"""
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

REVOKE ALL ON FUNCTION samia.audit_chain_pending() FROM PUBLIC;
"""

# At commit (a deferred constraint trigger): chain if the lock is free, else leave the rows to the
# holder after it or to the sweep. Under REPEATABLE READ or SERIALIZABLE the transaction's snapshot
# could be older than the head, so such a transaction never chains; its rows wait.
CHAIN = r"""
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

CREATE CONSTRAINT TRIGGER audit_chain AFTER INSERT ON audit_auditentry
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION samia.audit_chain();
REVOKE ALL ON FUNCTION samia.audit_chain() FROM PUBLIC;
"""

# The sweep: wait for the lock, then chain whatever is waiting, in its own transaction. Signing a
# checkpoint (an admin's request, under RLS) sweeps first, so that it signs a current head.
CHAIN_SWEEP = r"""
CREATE OR REPLACE FUNCTION samia.audit_chain_sweep() RETURNS integer
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    RAISE EXCEPTION 'the audit chain is swept under READ COMMITTED only';
  END IF;
  PERFORM pg_advisory_xact_lock(hashtext('samia.audit.chain'));
  RETURN samia.audit_chain_pending();
END $$;

REVOKE ALL ON FUNCTION samia.audit_chain_sweep() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION samia.audit_chain_sweep() TO samia_app;
"""

# ---------------------------------------------------------------------------------------------
# Append-only: no UPDATE, DELETE or TRUNCATE, for anyone, except the chaining step above (which
# fills seq, prev_hash and row_hash of an unchained row; the other columns are generated from the
# payload, so comparing the payload is the whole check), the retention purge of rows behind an
# anchor (which the purge writes only for ranges covered by a signed export), and truncating an
# already empty table (test databases are flushed that way). The UPDATE guard is an AFTER ROW
# trigger (an exception there undoes the statement just the same): with a BEFORE UPDATE row trigger
# on the table, Postgres recomputes every generated column on every UPDATE (the trigger could change
# the payload), so the chaining step, inside the chain lock, would parse each payload ten more times.

APPEND_ONLY = r"""
CREATE OR REPLACE FUNCTION samia.audit_append_only() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND current_setting('samia.audit_chaining', true) = 'on' AND OLD.seq IS NULL
     AND (NEW.id, NEW.payload) IS NOT DISTINCT FROM (OLD.id, OLD.payload) THEN
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

CREATE TRIGGER audit_append_only BEFORE DELETE ON audit_auditentry
  FOR EACH ROW EXECUTE FUNCTION samia.audit_append_only();
CREATE TRIGGER audit_append_only_update AFTER UPDATE ON audit_auditentry
  FOR EACH ROW EXECUTE FUNCTION samia.audit_append_only();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit_auditentry
  FOR EACH STATEMENT EXECUTE FUNCTION samia.audit_append_only();
"""

# ---------------------------------------------------------------------------------------------
# GET /admin/audit shows whether each row links to the row before it. A monitor may not read the
# row before (another family) nor the anchor; this function answers hashes only, which say nothing
# about who did what.

ROW_HASHES = r"""
CREATE OR REPLACE FUNCTION samia.audit_row_hashes(seqs bigint[]) RETURNS TABLE (seq bigint, row_hash text)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
  SELECT e.seq, e.row_hash::text FROM audit_auditentry e WHERE e.seq = ANY (seqs)
  UNION ALL
  SELECT a.seq, a.row_hash::text FROM audit_auditanchor a WHERE a.seq = ANY (seqs)
$$;
REVOKE ALL ON FUNCTION samia.audit_row_hashes(bigint[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION samia.audit_row_hashes(bigint[]) TO samia_app;
"""

# ---------------------------------------------------------------------------------------------
# occurred_at comes from the payload's 'YYYY-MM-DDTHH:MM:SS.ffffffZ' (services.utc_text). A cast
# text -> timestamptz is only STABLE (it reads DateStyle and TimeZone and accepts 'now'), which a
# generated column may not use. This function reads that one fixed format with make_timestamp(),
# make_interval() and AT TIME ZONE 'UTC', all IMMUTABLE, so the same text always gives the same
# instant, whatever the session's settings; any other text is refused. translate() checks the shape
# (ASCII digits where digits belong, the separators elsewhere) at a third of the cost of a regular
# expression. PL/pgSQL rather than SQL: Postgres would inline an SQL function and so parse the
# payload once per use of `value`.

UTC_TIME = r"""
CREATE OR REPLACE FUNCTION samia.audit_utc_time(value text) RETURNS timestamptz
  LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
BEGIN
  IF translate(value, '0123456789', '0000000000') <> '0000-00-00T00:00:00.000000Z' THEN
    RAISE EXCEPTION 'occurred_at % is not YYYY-MM-DDTHH:MM:SS.ffffffZ', value USING ERRCODE = '22007';
  END IF;
  RETURN (make_timestamp(substr(value, 1, 4)::int, substr(value, 6, 2)::int, substr(value, 9, 2)::int,
                         substr(value, 12, 2)::int, substr(value, 15, 2)::int, 0)
          + make_interval(secs => substr(value, 18, 2)::int) + substr(value, 21, 6)::int * interval '1 microsecond')
         AT TIME ZONE 'UTC';
END $$;
"""

# ---------------------------------------------------------------------------------------------
# Checkpoints are append-only like entries: no DELETE or TRUNCATE (an empty table may be truncated:
# test databases are flushed that way), and one UPDATE only, the job's note that a checkpoint
# reached the witness (witnessed_at, from NULL to a time, nothing else changed). samia_app has no
# UPDATE, DELETE or TRUNCATE grant at all; this trigger holds the owner. A superuser can switch
# triggers off, which is why every checkpoint is also written to the write-once witness.

CHECKPOINT_APPEND_ONLY = r"""
CREATE OR REPLACE FUNCTION samia.audit_checkpoint_append_only() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND OLD.witnessed_at IS NULL AND NEW.witnessed_at IS NOT NULL
     AND to_jsonb(NEW) - 'witnessed_at' = to_jsonb(OLD) - 'witnessed_at' THEN
    RETURN NEW;
  END IF;
  IF TG_OP = 'TRUNCATE' AND NOT EXISTS (SELECT 1 FROM audit_auditcheckpoint) THEN
    RETURN NULL;
  END IF;
  RAISE EXCEPTION 'audit checkpoints are append-only' USING ERRCODE = '42501';
END $$;

CREATE TRIGGER audit_checkpoint_append_only BEFORE UPDATE OR DELETE ON audit_auditcheckpoint
  FOR EACH ROW EXECUTE FUNCTION samia.audit_checkpoint_append_only();
CREATE TRIGGER audit_checkpoint_no_truncate BEFORE TRUNCATE ON audit_auditcheckpoint
  FOR EACH STATEMENT EXECUTE FUNCTION samia.audit_checkpoint_append_only();
"""
