from django.db import migrations

# samia.purpose_proven: the check of a proof for a value rather than an identity, for the lookups that
# answer before anyone is bound. Rendering of samia.rls.sql.PURPOSE_PROOF.
FORWARD = r"""
CREATE OR REPLACE FUNCTION samia.purpose_proven(p_purpose text, p_value text, p_proof text) RETURNS boolean
  LANGUAGE sql STABLE SECURITY DEFINER PARALLEL RESTRICTED SET search_path = pg_catalog
  AS $$ SELECT EXISTS (SELECT FROM samia_private.binding_key k
                        WHERE p_proof = encode(public.hmac(convert_to(
                          p_purpose || ':' || p_value || '@' || (SELECT pg_backend_pid() || ':' || (extract(epoch FROM backend_start) * 1000000)::bigint FROM pg_catalog.pg_stat_get_activity(pg_backend_pid())), 'UTF8'), k.key, 'sha256'), 'hex')) $$;

REVOKE ALL ON FUNCTION samia.purpose_proven(text, text, text) FROM PUBLIC;
"""

BACKWARD = "DROP FUNCTION IF EXISTS samia.purpose_proven(text, text, text);"


class Migration(migrations.Migration):
    dependencies = [("rls", "0003_identity_helpers_in_plpgsql")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
