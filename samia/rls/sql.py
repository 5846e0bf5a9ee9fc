"""The SQL functions policies read identity through, and the reset a declaration is applied after.

Migrations freeze a rendering of these templates (rls 0001); tests/rls/test_function_templates.py fails
when a template changes without a migration that carries it.
"""

# ---------------------------------------------------------------------------------------------
# Identity of the current request; an empty or missing setting means nobody, and a role without
# a user is nobody too. Policies wrap them as `(select ...)`: one evaluation per statement.

IDENTITY_HELPERS = r"""
CREATE OR REPLACE FUNCTION samia.actor_id() RETURNS bigint
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT nullif(current_setting('samia.user_id', true), '')::bigint $$;

CREATE OR REPLACE FUNCTION samia.actor_role() RETURNS text
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT CASE WHEN samia.actor_id() IS NULL THEN NULL
                    ELSE nullif(current_setting('samia.role', true), '') END $$;

GRANT EXECUTE ON FUNCTION samia.actor_id(), samia.actor_role() TO samia_app;
"""

# ---------------------------------------------------------------------------------------------
# Drop every policy on a table and every privilege of the app role on it, so that a declaration
# is applied from a clean slate (each RLS migration calls it per table).

RESET_TABLE_ACCESS = r"""
CREATE OR REPLACE FUNCTION samia.reset_table_access(tbl regclass) RETURNS void
  LANGUAGE plpgsql AS $$
DECLARE p record;
BEGIN
  FOR p IN SELECT polname FROM pg_policy WHERE polrelid = tbl LOOP
    EXECUTE format('DROP POLICY %I ON %s', p.polname, tbl);
  END LOOP;
  EXECUTE format('REVOKE ALL ON %s FROM samia_app', tbl);
END $$;

REVOKE ALL ON FUNCTION samia.reset_table_access(regclass) FROM PUBLIC;
"""
