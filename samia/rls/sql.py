"""The SQL functions policies read identity through, and the reset a declaration is applied after.

Migrations freeze a rendering of these templates (rls 0001, 0002, 0003, 0004); tests/rls/test_function_templates.py
fails when a template changes without a migration that carries it.
"""

# ---------------------------------------------------------------------------------------------
# What ties a binding to one server process: its pid and start time (microseconds). The app reads
# it once per connection (samia.rls.binding) and Postgres recomputes it in samia.actor_id(), so a
# proof seen on one connection is worthless on any other, including a later one with the same pid.

SESSION_NONCE = (
    "pg_backend_pid() || ':' || (extract(epoch FROM backend_start) * 1000000)::bigint "
    "FROM pg_catalog.pg_stat_get_activity(pg_backend_pid())"
)

# ---------------------------------------------------------------------------------------------
# Identity of the current request. samia.user_id counts only with its proof, an HMAC-SHA256 of
# "<user_id>@<nonce>" under the key in samia_private.binding_key (which neither samia_web nor
# samia_app can read); anything else means nobody. The role is read from the user's row, never
# from a setting. Policies wrap both as `(select ...)`: one evaluation per statement.
# PARALLEL RESTRICTED: a parallel worker has a pid of its own, so the leader evaluates them.
# PL/pgSQL, not SQL: a non-inlined SQL function is planned again at every call (several per
# statement), where PL/pgSQL keeps its plans for the session.

IDENTITY_HELPERS = rf"""
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
            claimed || '@' || (SELECT {SESSION_NONCE}), 'UTF8'), k.key, 'sha256'), 'hex'));
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

# ---------------------------------------------------------------------------------------------
# A proof for a value rather than an identity: an HMAC-SHA256 of "<purpose>:<value>@<nonce>" under
# the same key (samia.rls.binding.purpose_proof). The SECURITY DEFINER lookups that must answer before
# anyone is bound (the identity lookups and login check of accounts, the HELP reply's phone language)
# call it, so that a session holding only the app's login, without the key, learns nothing from
# them. Owner-only: those functions run as the owner; samia_app gets no EXECUTE.

PURPOSE_PROOF = rf"""
CREATE OR REPLACE FUNCTION samia.purpose_proven(p_purpose text, p_value text, p_proof text) RETURNS boolean
  LANGUAGE sql STABLE SECURITY DEFINER PARALLEL RESTRICTED SET search_path = pg_catalog
  AS $$ SELECT EXISTS (SELECT FROM samia_private.binding_key k
                        WHERE p_proof = encode(public.hmac(convert_to(
                          p_purpose || ':' || p_value || '@' || (SELECT {SESSION_NONCE}), 'UTF8'), k.key, 'sha256'), 'hex')) $$;

REVOKE ALL ON FUNCTION samia.purpose_proven(text, text, text) FROM PUBLIC;
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
