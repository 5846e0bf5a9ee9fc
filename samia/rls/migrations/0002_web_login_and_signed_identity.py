from django.db import migrations

# The web server's login, samia_web: it can log in and SET ROLE samia_app, and nothing else, so
# RESET ROLE inside a request leads nowhere. Roles are shared by every database of the server
# (other test databases may be migrating at the same moment): create and grant only when missing,
# and let a concurrent creator win.
WEB_LOGIN = r"""
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'samia_web') THEN
    BEGIN
      CREATE ROLE samia_web LOGIN NOINHERIT NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOREPLICATION;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
    END;
  END IF;
  IF NOT pg_has_role('samia_web', 'samia_app', 'MEMBER') THEN
    GRANT samia_app TO samia_web;
  END IF;
  -- A non-superuser owner reads samia_web's backend start (the binding nonce) as a member of it.
  IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
     AND NOT pg_has_role(current_user, 'samia_web', 'USAGE') THEN
    EXECUTE format('GRANT samia_web TO %I', current_user);
  END IF;
END $$;

CREATE EXTENSION IF NOT EXISTS pgcrypto WITH SCHEMA public;

CREATE SCHEMA IF NOT EXISTS samia_private;
REVOKE ALL ON SCHEMA samia_private FROM PUBLIC;
CREATE TABLE IF NOT EXISTS samia_private.binding_key (id smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1), key bytea NOT NULL);
"""

IDENTITY_HELPERS = r"""
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

PREVIOUS_IDENTITY_HELPERS = r"""
CREATE OR REPLACE FUNCTION samia.actor_id() RETURNS bigint
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT nullif(current_setting('samia.user_id', true), '')::bigint $$;

CREATE OR REPLACE FUNCTION samia.actor_role() RETURNS text
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT CASE WHEN samia.actor_id() IS NULL THEN NULL
                    ELSE nullif(current_setting('samia.role', true), '') END $$;

GRANT EXECUTE ON FUNCTION samia.actor_id(), samia.actor_role() TO PUBLIC;
"""

# The role stays on the server when unmigrated: other databases of the cluster may still use it.
DROP_KEY = r"""
DROP SCHEMA IF EXISTS samia_private CASCADE;
"""


class Migration(migrations.Migration):
    dependencies = [("rls", "0001_app_role_and_identity_helpers"), ("accounts", "0001_initial")]
    operations = [
        migrations.RunSQL(WEB_LOGIN, DROP_KEY),
        migrations.RunSQL(IDENTITY_HELPERS, PREVIOUS_IDENTITY_HELPERS),
    ]
