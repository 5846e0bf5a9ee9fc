from django.db import migrations

FORWARD = r"""
CREATE SCHEMA IF NOT EXISTS samia;

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'samia_app') THEN
    CREATE ROLE samia_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOINHERIT NOCREATEDB NOCREATEROLE;
  END IF;
  -- The connecting role must be able to SET ROLE samia_app.
  IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
    EXECUTE format('GRANT samia_app TO %I', current_user);
  END IF;
  -- Only when it differs: roles are shared by every database of the server, and two databases
  -- migrating at once (the test processes) would otherwise update the same catalog row together
  -- ("tuple concurrently updated").
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'samia_app'
             AND (rolcanlogin OR rolsuper OR rolbypassrls OR rolcreatedb OR rolcreaterole)) THEN
    ALTER ROLE samia_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
  END IF;
END $$;

GRANT USAGE ON SCHEMA samia TO samia_app;
GRANT USAGE ON SCHEMA public TO samia_app;

-- Identity of the current request; an empty or missing setting means nobody.
CREATE OR REPLACE FUNCTION samia.actor_id() RETURNS bigint
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT nullif(current_setting('samia.user_id', true), '')::bigint $$;

CREATE OR REPLACE FUNCTION samia.actor_role() RETURNS text
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT CASE WHEN samia.actor_id() IS NULL THEN NULL
                    ELSE nullif(current_setting('samia.role', true), '') END $$;

-- Drop every policy on a table and every privilege of the app role on it,
-- so that a declaration is applied from a clean slate.
CREATE OR REPLACE FUNCTION samia.reset_table_access(tbl regclass) RETURNS void
  LANGUAGE plpgsql AS $$
DECLARE p record;
BEGIN
  FOR p IN SELECT polname FROM pg_policy WHERE polrelid = tbl LOOP
    EXECUTE format('DROP POLICY %I ON %s', p.polname, tbl);
  END LOOP;
  EXECUTE format('REVOKE ALL ON %s FROM samia_app', tbl);
END $$;

GRANT EXECUTE ON FUNCTION samia.actor_id(), samia.actor_role() TO samia_app;
REVOKE ALL ON FUNCTION samia.reset_table_access(regclass) FROM PUBLIC;
"""

BACKWARD = r"""
DROP FUNCTION IF EXISTS samia.reset_table_access(regclass);
DROP FUNCTION IF EXISTS samia.actor_role();
DROP FUNCTION IF EXISTS samia.actor_id();
"""


class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
