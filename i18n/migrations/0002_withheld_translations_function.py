from django.db import migrations

# Which machine translations may not be served yet, answered to callers who may not read
# i18n_fieldtranslation (the public horoscope route). Rendering of i18n.sql.WITHHELD.
FORWARD = r"""
CREATE OR REPLACE FUNCTION samia.i18n_withheld(p_model text, p_field text, p_ids bigint[])
  RETURNS TABLE (object_id bigint, language text, status text)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
  SELECT t.object_id, t.language::text, t.status::text
    FROM i18n_fieldtranslation t
   WHERE t.model = p_model AND t.field = p_field AND t.object_id = ANY(p_ids)
     AND t.auto_translated AND t.status <> 'approved'
     AND coalesce((SELECT p.review_required FROM i18n_fieldpolicy p
                    WHERE p.model = p_model AND p.field = p_field), true) $$;

REVOKE ALL ON FUNCTION samia.i18n_withheld(text, text, bigint[]) FROM PUBLIC;

GRANT EXECUTE ON FUNCTION samia.i18n_withheld(text, text, bigint[]) TO samia_app;
"""

BACKWARD = "DROP FUNCTION IF EXISTS samia.i18n_withheld(text, text, bigint[]);"


class Migration(migrations.Migration):
    dependencies = [("i18n", "0001_translation_state_policy_glossary"), ("rls", "0003_identity_helpers_in_plpgsql")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
