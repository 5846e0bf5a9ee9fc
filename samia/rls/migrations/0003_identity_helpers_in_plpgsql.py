from django.db import migrations

# The identity helpers in PL/pgSQL, which keeps its plans for the session: as SQL functions that
# cannot be inlined (SECURITY DEFINER), each call planned its body again, several times a statement.
IDENTITY_HELPERS = r"""
CREATE OR REPLACE FUNCTION samia.actor_id() RETURNS bigint
  LANGUAGE plpgsql STABLE SECURITY DEFINER PARALLEL RESTRICTED SET search_path = pg_catalog
  AS $$
DECLARE claimed text := current_setting('samia.user_id', true);
BEGIN
  IF coalesce(claimed, '') = '' THEN
    RETURN NULL;
  END IF;
  RETURN (SELECT claimed::bigint FROM samia_private.binding_key k
          WHERE current_setting('samia.user_proof', true) = encode(public.hmac(convert_to(
            claimed || '@' || (SELECT pg_backend_pid() || ':' || (extract(epoch FROM backend_start) * 1000000)::bigint FROM pg_catalog.pg_stat_get_activity(pg_backend_pid())), 'UTF8'), k.key, 'sha256'), 'hex'));
END $$;

CREATE OR REPLACE FUNCTION samia.actor_role() RETURNS text
  LANGUAGE plpgsql STABLE SECURITY DEFINER PARALLEL RESTRICTED SET search_path = pg_catalog
  AS $$
DECLARE actor bigint := samia.actor_id();
BEGIN
  RETURN (SELECT u.role FROM public.accounts_user u WHERE u.id = actor);
END $$;

REVOKE ALL ON FUNCTION samia.actor_id(), samia.actor_role() FROM PUBLIC;

GRANT EXECUTE ON FUNCTION samia.actor_id(), samia.actor_role() TO samia_app;
"""

PREVIOUS_IDENTITY_HELPERS = r"""
CREATE OR REPLACE FUNCTION samia.actor_id() RETURNS bigint
  LANGUAGE sql STABLE SECURITY DEFINER PARALLEL RESTRICTED SET search_path = pg_catalog
  AS $$ SELECT nullif(current_setting('samia.user_id', true), '')::bigint
        FROM samia_private.binding_key k
        WHERE current_setting('samia.user_proof', true) = encode(public.hmac(convert_to(
          current_setting('samia.user_id', true) || '@' || (SELECT pg_backend_pid() || ':' || (extract(epoch FROM backend_start) * 1000000)::bigint FROM pg_catalog.pg_stat_get_activity(pg_backend_pid())), 'UTF8'), k.key, 'sha256'), 'hex') $$;

CREATE OR REPLACE FUNCTION samia.actor_role() RETURNS text
  LANGUAGE sql STABLE SECURITY DEFINER PARALLEL RESTRICTED SET search_path = pg_catalog
  AS $$ SELECT u.role FROM public.accounts_user u WHERE u.id = samia.actor_id() $$;

REVOKE ALL ON FUNCTION samia.actor_id(), samia.actor_role() FROM PUBLIC;

GRANT EXECUTE ON FUNCTION samia.actor_id(), samia.actor_role() TO samia_app;
"""


class Migration(migrations.Migration):
    dependencies = [("rls", "0002_web_login_and_signed_identity")]
    operations = [migrations.RunSQL(IDENTITY_HELPERS, PREVIOUS_IDENTITY_HELPERS)]
