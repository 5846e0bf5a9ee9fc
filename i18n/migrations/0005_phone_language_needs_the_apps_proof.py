from django.db import migrations

# The HELP reply's language lookup answers only a caller holding the app's binding key (review
# finding F5: any session with the app login could ask whether a number has an account).
# Rendering of i18n.sql.PHONE_LANGUAGE.
FORWARD = r"""
DROP FUNCTION IF EXISTS samia.i18n_phone_language(text);

CREATE OR REPLACE FUNCTION samia.i18n_phone_language(p_phone text, p_proof text) RETURNS text
  LANGUAGE sql STABLE SECURITY DEFINER PARALLEL RESTRICTED SET search_path = pg_catalog, public AS $$
  SELECT CASE WHEN count(DISTINCT u.language) = 1 THEN min(u.language)::text END
    FROM accounts_user u
   WHERE u.phone = p_phone AND p_phone <> '' AND samia.purpose_proven('phone', p_phone, p_proof) $$;

REVOKE ALL ON FUNCTION samia.i18n_phone_language(text, text) FROM PUBLIC;

GRANT EXECUTE ON FUNCTION samia.i18n_phone_language(text, text) TO samia_app;
"""

BACKWARD = "DROP FUNCTION IF EXISTS samia.i18n_phone_language(text, text);"


class Migration(migrations.Migration):
    dependencies = [("i18n", "0004_phone_language_function"), ("rls", "0004_purpose_proof")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
