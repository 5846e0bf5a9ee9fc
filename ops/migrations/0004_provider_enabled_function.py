from django.db import migrations

# ops.sql.PROVIDER_ENABLED as of this migration (copied, not imported).
PROVIDER_ENABLED = r"""
CREATE OR REPLACE FUNCTION samia.provider_enabled(provider_name text) RETURNS boolean
  LANGUAGE plpgsql STABLE SECURITY DEFINER PARALLEL SAFE SET search_path = pg_catalog
  AS $$
BEGIN
  RETURN coalesce((SELECT s.enabled FROM public.ops_providerstate s WHERE s.name = provider_name), true);
END $$;

REVOKE ALL ON FUNCTION samia.provider_enabled(text) FROM PUBLIC;

GRANT EXECUTE ON FUNCTION samia.provider_enabled(text) TO samia_app;
"""


class Migration(migrations.Migration):
    dependencies = [("ops", "0003_install_probe_and_rotation_schedules")]

    operations = [migrations.RunSQL(PROVIDER_ENABLED, "DROP FUNCTION IF EXISTS samia.provider_enabled(text);")]
