from django.db import migrations

# samia.features.sql.FEATURE_ON as of this migration (copied, not imported).
FEATURE_ON = r"""
CREATE OR REPLACE FUNCTION samia.feature_on(switch_name text) RETURNS boolean
  LANGUAGE plpgsql STABLE SECURITY DEFINER PARALLEL SAFE SET search_path = pg_catalog
  AS $$
BEGIN
  RETURN coalesce((SELECT s.active FROM public.waffle_switch s WHERE s.name = switch_name), false);
END $$;

REVOKE ALL ON FUNCTION samia.feature_on(text) FROM PUBLIC;

GRANT EXECUTE ON FUNCTION samia.feature_on(text) TO samia_app;
"""


class Migration(migrations.Migration):
    dependencies = [("features", "0001_create_switches_off"), ("rls", "0003_identity_helpers_in_plpgsql")]

    operations = [migrations.RunSQL(FEATURE_ON, "DROP FUNCTION IF EXISTS samia.feature_on(text);")]
