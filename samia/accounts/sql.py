"""The SQL functions of accounts: the identity lookup that precedes binding, and the privilege guard.

Migrations freeze a rendering of these templates (accounts 0002, 0004); tests/rls/test_function_templates.py
fails when a template changes without a migration that carries it.
"""

from samia.rls.registry import ADMINS, STAFF


def _roles(roles: tuple[str, ...]) -> str:
    return ", ".join(f"'{role}'" for role in roles)


# ---------------------------------------------------------------------------------------------
# The identity lookup that precedes binding: one account by id or by email, readable by the app
# role without any row policy on accounts_user letting it read others. Neither hands out the
# password hash: the row's password is '!' (unusable to Django) followed by the hash's algorithm,
# cost and salt, which change with every new password (so sessions still end at a password change).
# The login derives its candidate hash from them, as a SCRAM client does from the salt and
# iteration count a server sends, and samia.login_check compares it with the stored hash, which
# never leaves the database: a session running as samia_app can test a guess (at the hasher's
# cost) but cannot carry hashes away to crack offline.

IDENTITY_LOOKUP = r"""
CREATE OR REPLACE FUNCTION samia.identity(p_user_id bigint) RETURNS SETOF public.accounts_user
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
  AS $$ SELECT masked.* FROM public.accounts_user u, jsonb_populate_record(u, jsonb_build_object('password',
          CASE WHEN u.password LIKE '%$%' THEN '!' || regexp_replace(u.password, '[$][^$]*$', '') ELSE '!' END)) masked
        WHERE u.id = p_user_id $$;

CREATE OR REPLACE FUNCTION samia.identity_by_email(p_email text) RETURNS SETOF public.accounts_user
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
  AS $$ SELECT masked.* FROM public.accounts_user u, samia.identity(u.id) masked WHERE lower(u.email) = lower(p_email) $$;

CREATE OR REPLACE FUNCTION samia.login_check(p_user_id bigint, p_candidate text) RETURNS boolean
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
  AS $$ SELECT EXISTS (SELECT FROM public.accounts_user
                       WHERE id = p_user_id AND password = p_candidate AND password NOT LIKE '!%') $$;

REVOKE ALL ON FUNCTION samia.identity(bigint), samia.identity_by_email(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION samia.identity(bigint), samia.identity_by_email(text) TO samia_app;
REVOKE ALL ON FUNCTION samia.login_check(bigint, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION samia.login_check(bigint, text) TO samia_app;
"""


# ---------------------------------------------------------------------------------------------
# Roles and restrictions change only at the hands of staff, whatever the row policies allow.
# Monitors may update clients' and readers' rows (RLS) to block them; the guard narrows that to
# the restriction columns, and keeps the rank rules of moderation.services in the database too:
# nobody restricts themselves, only a superadmin restricts an admin, nobody restricts a superadmin.


def guard_user_privileges_sql() -> str:
    """Return the trigger that keeps role, restriction and email changes to the ranks allowed them."""
    admins, staff = _roles(ADMINS), _roles(STAFF)
    return f"""
CREATE OR REPLACE FUNCTION samia.guard_user_privileges() RETURNS trigger
  LANGUAGE plpgsql AS $$
DECLARE actor_role text := samia.actor_role();
BEGIN
  IF samia.actor_id() IS NULL THEN
    RETURN NEW;  -- service role: migrations, jobs, management commands
  END IF;
  IF NEW.role IS DISTINCT FROM OLD.role THEN
    IF actor_role IS DISTINCT FROM 'superadmin' AND
       (actor_role IS DISTINCT FROM 'admin' OR NEW.role IN ({admins}) OR OLD.role IN ({admins})) THEN
      RAISE EXCEPTION 'role change not permitted' USING ERRCODE = '42501';
    END IF;
    IF NEW.id = samia.actor_id() THEN
      RAISE EXCEPTION 'nobody changes their own role' USING ERRCODE = '42501';
    END IF;
  END IF;
  IF (NEW.is_active, NEW.blocked_at, NEW.blocked_until) IS DISTINCT FROM (OLD.is_active, OLD.blocked_at, OLD.blocked_until) THEN
    IF actor_role NOT IN ({staff}) THEN
      RAISE EXCEPTION 'restriction change not permitted' USING ERRCODE = '42501';
    END IF;
    IF NEW.id = samia.actor_id() THEN
      RAISE EXCEPTION 'nobody changes their own restriction' USING ERRCODE = '42501';
    END IF;
    IF OLD.role = 'superadmin' OR (OLD.role = 'admin' AND actor_role IS DISTINCT FROM 'superadmin') THEN
      RAISE EXCEPTION 'restriction change not permitted on this rank' USING ERRCODE = '42501';
    END IF;
  END IF;
  IF actor_role = 'monitor' AND NEW.id IS DISTINCT FROM samia.actor_id() AND
     (to_jsonb(NEW) - 'blocked_at' - 'blocked_until') IS DISTINCT FROM (to_jsonb(OLD) - 'blocked_at' - 'blocked_until') THEN
    RAISE EXCEPTION 'a monitor changes only the block of a client or reader' USING ERRCODE = '42501';
  END IF;
  IF NEW.email IS DISTINCT FROM OLD.email AND actor_role NOT IN ({admins}) THEN
    RAISE EXCEPTION 'email change not permitted' USING ERRCODE = '42501';
  END IF;
  RETURN NEW;
END $$;

CREATE TRIGGER accounts_user_guard_privileges BEFORE UPDATE ON public.accounts_user
  FOR EACH ROW EXECUTE FUNCTION samia.guard_user_privileges();
"""
