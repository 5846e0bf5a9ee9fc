from django.db import migrations

# The profile language of a phone number's account, for the SMS HELP reply answered inside a webhook
# that runs with no identity. Rendering of i18n.sql.PHONE_LANGUAGE.
FORWARD = r"""
CREATE OR REPLACE FUNCTION samia.i18n_phone_language(p_phone text) RETURNS text
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
  SELECT CASE WHEN count(DISTINCT u.language) = 1 THEN min(u.language)::text END
    FROM accounts_user u
   WHERE u.phone = p_phone AND p_phone <> '' $$;

REVOKE ALL ON FUNCTION samia.i18n_phone_language(text) FROM PUBLIC;

GRANT EXECUTE ON FUNCTION samia.i18n_phone_language(text) TO samia_app;
"""

BACKWARD = "DROP FUNCTION IF EXISTS samia.i18n_phone_language(text);"


class Migration(migrations.Migration):
    dependencies = [("i18n", "0003_rls_policies"), ("accounts", "0001_initial")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
