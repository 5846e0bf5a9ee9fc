# KEY_REMOVED_SQL was ar/sql.py KEY_REMOVED when this was written: the signed download asks whether
# a key belongs to a removed asset, whoever follows the link.
from django.db import migrations

KEY_REMOVED_SQL = r"""
CREATE OR REPLACE FUNCTION samia.ar_key_removed(p_key text) RETURNS boolean
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
  SELECT EXISTS (SELECT 1 FROM ar_arasset WHERE storage_key = p_key AND removed_at IS NOT NULL) $$;
REVOKE ALL ON FUNCTION samia.ar_key_removed(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION samia.ar_key_removed(text) TO samia_app;
"""


class Migration(migrations.Migration):
    dependencies = [("ar", "0001_assets_and_links"), ("rls", "0001_app_role_and_identity_helpers")]

    operations = [
        migrations.RunSQL(KEY_REMOVED_SQL, reverse_sql="DROP FUNCTION IF EXISTS samia.ar_key_removed(text);"),
    ]
