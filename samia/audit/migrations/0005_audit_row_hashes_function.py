from django.db import migrations

# GET /admin/audit shows whether each row links to the row before it. A monitor may not read
# the row before (another family) nor the anchor; this function answers hashes only, which say
# nothing about who did what.
FORWARD = r"""
CREATE OR REPLACE FUNCTION samia.audit_row_hashes(seqs bigint[]) RETURNS TABLE (seq bigint, row_hash text)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
  SELECT e.seq, e.row_hash::text FROM audit_auditentry e WHERE e.seq = ANY (seqs)
  UNION ALL
  SELECT a.seq, a.row_hash::text FROM audit_auditanchor a WHERE a.seq = ANY (seqs)
$$;
REVOKE ALL ON FUNCTION samia.audit_row_hashes(bigint[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION samia.audit_row_hashes(bigint[]) TO samia_app;
"""

BACKWARD = "DROP FUNCTION IF EXISTS samia.audit_row_hashes(bigint[]);"


class Migration(migrations.Migration):
    dependencies = [("audit", "0004_audit_export"), ("rls", "0001_app_role_and_identity_helpers")]
    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
