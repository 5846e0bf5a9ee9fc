from django.db import migrations

# Checkpoints are append-only like entries (template: samia.audit.sql.CHECKPOINT_APPEND_ONLY).
# samia_app never had UPDATE, DELETE or TRUNCATE on the table; this holds the owner, except the one
# note the witness job makes (witnessed_at, from NULL to a time).
FORWARD = r"""
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

BACKWARD = r"""
DROP TRIGGER IF EXISTS audit_checkpoint_no_truncate ON audit_auditcheckpoint;
DROP TRIGGER IF EXISTS audit_checkpoint_append_only ON audit_auditcheckpoint;
DROP FUNCTION IF EXISTS samia.audit_checkpoint_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("audit", "0013_checkpoint_serial_required")]
    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
