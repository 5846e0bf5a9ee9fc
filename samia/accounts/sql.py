"""The SQL functions of accounts: the identity lookup that precedes binding, the privilege guard and the
audit of identity changes.

Migrations freeze a rendering of these templates (accounts 0008, 0009, 0014); tests/rls/test_function_templates.py
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
# never leaves the database, so a session running as samia_app cannot carry hashes away to crack
# offline.
# Each answers only with the app's proof for the value asked on that connection
# (samia.rls.binding.purpose_proof: "identity" and the id, "email" and the address as asked,
# "login" and the id), an HMAC under the binding key, which the app login cannot read. Without it
# there is no row and every guess is false: a session holding only the app's login cannot walk the
# accounts (emails, phones, languages, roles) nor test passwords outside the login's limits.

IDENTITY_LOOKUP = r"""
DROP FUNCTION IF EXISTS samia.identity_by_email(text);
DROP FUNCTION IF EXISTS samia.identity(bigint);
DROP FUNCTION IF EXISTS samia.login_check(bigint, text);

CREATE OR REPLACE FUNCTION samia.identity_masked(p_user_id bigint) RETURNS SETOF public.accounts_user
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
  AS $$ SELECT masked.* FROM public.accounts_user u, jsonb_populate_record(u, jsonb_build_object('password',
          CASE WHEN u.password LIKE '%$%' THEN '!' || regexp_replace(u.password, '[$][^$]*$', '') ELSE '!' END)) masked
        WHERE u.id = p_user_id $$;

CREATE OR REPLACE FUNCTION samia.identity(p_user_id bigint, p_proof text) RETURNS SETOF public.accounts_user
  LANGUAGE sql STABLE SECURITY DEFINER PARALLEL RESTRICTED SET search_path = pg_catalog, public
  AS $$ SELECT masked.* FROM samia.identity_masked(p_user_id) masked
        WHERE samia.purpose_proven('identity', p_user_id::text, p_proof) $$;

CREATE OR REPLACE FUNCTION samia.identity_by_email(p_email text, p_proof text) RETURNS SETOF public.accounts_user
  LANGUAGE sql STABLE SECURITY DEFINER PARALLEL RESTRICTED SET search_path = pg_catalog, public
  AS $$ SELECT masked.* FROM public.accounts_user u, samia.identity_masked(u.id) masked
        WHERE lower(u.email) = lower(p_email) AND samia.purpose_proven('email', p_email, p_proof) $$;

CREATE OR REPLACE FUNCTION samia.login_check(p_user_id bigint, p_candidate text, p_proof text) RETURNS boolean
  LANGUAGE sql STABLE SECURITY DEFINER PARALLEL RESTRICTED SET search_path = pg_catalog, public
  AS $$ SELECT EXISTS (SELECT FROM public.accounts_user
                       WHERE id = p_user_id AND password = p_candidate AND password NOT LIKE '!%')
           AND samia.purpose_proven('login', p_user_id::text, p_proof) $$;

REVOKE ALL ON FUNCTION samia.identity_masked(bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION samia.identity(bigint, text), samia.identity_by_email(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION samia.identity(bigint, text), samia.identity_by_email(text, text) TO samia_app;
REVOKE ALL ON FUNCTION samia.login_check(bigint, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION samia.login_check(bigint, text, text) TO samia_app;
"""


# ---------------------------------------------------------------------------------------------
# Roles, identity fields and restrictions change only at the hands of the ranks allowed them, whatever
# the row policies allow, on INSERT as on UPDATE:
# - only a superadmin creates staff accounts or grants or takes a staff role; an admin moves users
#   between client and reader; nobody changes their own role;
# - email, role, active flag and phone of a user of equal or higher rank change only by a superadmin;
#   one's own email changes only by a superadmin (there is no re-authenticated self-service route);
# - only admins (de)activate accounts; block columns are staff's, with the rank rules of
#   moderation.services (nobody restricts themselves, only a superadmin restricts an admin, nobody a
#   superadmin); moderation's deferred trigger further demands the moderation action behind a block;
# - a monitor changes nothing but the block of a client or reader.


def _rank_sql(role: str) -> str:
    return f"(CASE {role} WHEN 'superadmin' THEN 3 WHEN 'admin' THEN 2 WHEN 'monitor' THEN 1 ELSE 0 END)"


def guard_user_privileges_sql() -> str:
    """Return the trigger that keeps new accounts and role, identity and restriction changes to the ranks allowed them."""
    admins, staff = _roles(ADMINS), _roles(STAFF)
    return f"""
CREATE OR REPLACE FUNCTION samia.guard_user_privileges() RETURNS trigger
  LANGUAGE plpgsql AS $$
DECLARE
  actor_id bigint := samia.actor_id();
  actor_role text := samia.actor_role();
  actor_rank int := {_rank_sql("actor_role")};
BEGIN
  IF actor_id IS NULL THEN
    RETURN NEW;  -- service role: migrations, jobs, management commands
  END IF;
  IF TG_OP = 'INSERT' THEN
    IF NEW.role IN ({staff}) AND actor_role IS DISTINCT FROM 'superadmin' THEN
      RAISE EXCEPTION 'only a superadmin creates staff accounts' USING ERRCODE = '42501';
    END IF;
    IF NEW.blocked_at IS NOT NULL OR NEW.blocked_until IS NOT NULL THEN
      RAISE EXCEPTION 'a new account starts unblocked; blocks come from moderation' USING ERRCODE = '42501';
    END IF;
    RETURN NEW;
  END IF;
  IF NEW.role IS DISTINCT FROM OLD.role THEN
    IF NEW.id = actor_id THEN
      RAISE EXCEPTION 'nobody changes their own role' USING ERRCODE = '42501';
    END IF;
    IF actor_role IS DISTINCT FROM 'superadmin' AND
       (actor_role IS DISTINCT FROM 'admin' OR NEW.role IN ({staff}) OR OLD.role IN ({staff})) THEN
      RAISE EXCEPTION 'role change not permitted: only a superadmin grants or takes staff roles' USING ERRCODE = '42501';
    END IF;
  END IF;
  IF (NEW.email, NEW.role, NEW.is_active, NEW.phone) IS DISTINCT FROM (OLD.email, OLD.role, OLD.is_active, OLD.phone)
     AND NEW.id <> actor_id AND actor_role IS DISTINCT FROM 'superadmin' AND {_rank_sql("OLD.role")} >= actor_rank THEN
    RAISE EXCEPTION 'the identity of a user of your rank or above changes only by a superadmin' USING ERRCODE = '42501';
  END IF;
  IF NEW.email IS DISTINCT FROM OLD.email AND actor_role IS DISTINCT FROM 'superadmin' THEN
    IF NEW.id = actor_id THEN
      RAISE EXCEPTION 'your own email changes only with re-authentication' USING ERRCODE = '42501';
    END IF;
    IF actor_role NOT IN ({admins}) THEN
      RAISE EXCEPTION 'email change not permitted' USING ERRCODE = '42501';
    END IF;
  END IF;
  IF NEW.is_active IS DISTINCT FROM OLD.is_active THEN
    IF NEW.id = actor_id THEN
      RAISE EXCEPTION 'nobody changes their own restriction' USING ERRCODE = '42501';
    END IF;
    IF actor_role NOT IN ({admins}) THEN
      RAISE EXCEPTION 'only admins activate or deactivate accounts' USING ERRCODE = '42501';
    END IF;
  END IF;
  IF (NEW.is_active, NEW.blocked_at, NEW.blocked_until) IS DISTINCT FROM (OLD.is_active, OLD.blocked_at, OLD.blocked_until) THEN
    IF actor_role NOT IN ({staff}) THEN
      RAISE EXCEPTION 'restriction change not permitted' USING ERRCODE = '42501';
    END IF;
    IF NEW.id = actor_id THEN
      RAISE EXCEPTION 'nobody changes their own restriction' USING ERRCODE = '42501';
    END IF;
    IF OLD.role = 'superadmin' OR (OLD.role = 'admin' AND actor_role IS DISTINCT FROM 'superadmin') THEN
      RAISE EXCEPTION 'restriction change not permitted on this rank' USING ERRCODE = '42501';
    END IF;
  END IF;
  IF actor_role = 'monitor' AND NEW.id IS DISTINCT FROM actor_id AND
     (to_jsonb(NEW) - 'blocked_at' - 'blocked_until') IS DISTINCT FROM (to_jsonb(OLD) - 'blocked_at' - 'blocked_until') THEN
    RAISE EXCEPTION 'a monitor changes only the block of a client or reader' USING ERRCODE = '42501';
  END IF;
  RETURN NEW;
END $$;

CREATE TRIGGER accounts_user_guard_privileges BEFORE INSERT OR UPDATE ON public.accounts_user
  FOR EACH ROW EXECUTE FUNCTION samia.guard_user_privileges();
"""


# ---------------------------------------------------------------------------------------------
# Every change of email, phone, role or active flag is audited by the database itself, wherever it
# comes from (back office, API, a command). The entry goes through the audit path (a plain INSERT of
# the canonical payload, as samia.audit.record writes it: sorted keys, compact, UTC microseconds),
# names the fields only, never their values, and is written as the caller, so the audit table's
# policy (actor_id = me) admits it. Changes made with no identity are the service role's.

AUDIT_IDENTITY_CHANGES = r"""
CREATE OR REPLACE FUNCTION samia.audit_user_identity_change() RETURNS trigger
  LANGUAGE plpgsql AS $$
DECLARE
  fields text[] := '{}';
  actor_id bigint := samia.actor_id();
BEGIN
  IF NEW.email IS DISTINCT FROM OLD.email THEN fields := fields || 'email'::text; END IF;
  IF NEW.is_active IS DISTINCT FROM OLD.is_active THEN fields := fields || 'is_active'::text; END IF;
  IF NEW.phone IS DISTINCT FROM OLD.phone THEN fields := fields || 'phone'::text; END IF;
  IF NEW.role IS DISTINCT FROM OLD.role THEN fields := fields || 'role'::text; END IF;
  IF cardinality(fields) = 0 THEN
    RETURN NULL;
  END IF;
  INSERT INTO public.audit_auditentry (payload) VALUES (
    '{"action":"accounts.user.identity_change","actor_id":' || coalesce(actor_id::text, 'null')
    || ',"actor_role":' || to_json(CASE WHEN actor_id IS NULL THEN 'system:database'
                                        ELSE coalesce(samia.actor_role(), 'anonymous') END)::text
    || ',"details":{"fields":' || array_to_json(fields)::text || '}'
    || ',"family":"accounts","occurred_at":"'
    || to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
    || '","outcome":"success","request_id":"","target_id":"' || NEW.id || '","target_type":"accounts.user"}');
  RETURN NULL;
END $$;

CREATE TRIGGER accounts_user_audit_identity_change AFTER UPDATE ON public.accounts_user
  FOR EACH ROW EXECUTE FUNCTION samia.audit_user_identity_change();
"""
