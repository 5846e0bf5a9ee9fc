from django.db import migrations

# The privilege guard fires on INSERT too (only a superadmin creates staff accounts) and keeps the
# identity fields of a user of equal or higher rank to superadmins; identity changes are audited by
# a trigger writing through the audit path. Renderings of samia.accounts.sql as of this migration.
FORWARD = r"""
DROP TRIGGER accounts_user_guard_privileges ON public.accounts_user;

CREATE OR REPLACE FUNCTION samia.guard_user_privileges() RETURNS trigger
  LANGUAGE plpgsql AS $$
DECLARE
  actor_id bigint := samia.actor_id();
  actor_role text := samia.actor_role();
  actor_rank int := (CASE actor_role WHEN 'superadmin' THEN 3 WHEN 'admin' THEN 2 WHEN 'monitor' THEN 1 ELSE 0 END);
BEGIN
  IF actor_id IS NULL THEN
    RETURN NEW;  -- service role: migrations, jobs, management commands
  END IF;
  IF TG_OP = 'INSERT' THEN
    IF NEW.role IN ('monitor', 'admin', 'superadmin') AND actor_role IS DISTINCT FROM 'superadmin' THEN
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
       (actor_role IS DISTINCT FROM 'admin' OR NEW.role IN ('monitor', 'admin', 'superadmin') OR OLD.role IN ('monitor', 'admin', 'superadmin')) THEN
      RAISE EXCEPTION 'role change not permitted: only a superadmin grants or takes staff roles' USING ERRCODE = '42501';
    END IF;
  END IF;
  IF (NEW.email, NEW.role, NEW.is_active, NEW.phone) IS DISTINCT FROM (OLD.email, OLD.role, OLD.is_active, OLD.phone)
     AND NEW.id <> actor_id AND actor_role IS DISTINCT FROM 'superadmin' AND (CASE OLD.role WHEN 'superadmin' THEN 3 WHEN 'admin' THEN 2 WHEN 'monitor' THEN 1 ELSE 0 END) >= actor_rank THEN
    RAISE EXCEPTION 'the identity of a user of your rank or above changes only by a superadmin' USING ERRCODE = '42501';
  END IF;
  IF NEW.email IS DISTINCT FROM OLD.email AND actor_role IS DISTINCT FROM 'superadmin' THEN
    IF NEW.id = actor_id THEN
      RAISE EXCEPTION 'your own email changes only with re-authentication' USING ERRCODE = '42501';
    END IF;
    IF actor_role NOT IN ('admin', 'superadmin') THEN
      RAISE EXCEPTION 'email change not permitted' USING ERRCODE = '42501';
    END IF;
  END IF;
  IF NEW.is_active IS DISTINCT FROM OLD.is_active THEN
    IF NEW.id = actor_id THEN
      RAISE EXCEPTION 'nobody changes their own restriction' USING ERRCODE = '42501';
    END IF;
    IF actor_role NOT IN ('admin', 'superadmin') THEN
      RAISE EXCEPTION 'only admins activate or deactivate accounts' USING ERRCODE = '42501';
    END IF;
  END IF;
  IF (NEW.is_active, NEW.blocked_at, NEW.blocked_until) IS DISTINCT FROM (OLD.is_active, OLD.blocked_at, OLD.blocked_until) THEN
    IF actor_role NOT IN ('monitor', 'admin', 'superadmin') THEN
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

# The guard as 0004 left it (0005-0008 did not change it), on UPDATE only; no identity audit.
BACKWARD = r"""
DROP TRIGGER accounts_user_audit_identity_change ON public.accounts_user;
DROP FUNCTION samia.audit_user_identity_change();
DROP TRIGGER accounts_user_guard_privileges ON public.accounts_user;
CREATE OR REPLACE FUNCTION samia.guard_user_privileges() RETURNS trigger
  LANGUAGE plpgsql AS $$
DECLARE actor_role text := samia.actor_role();
BEGIN
  IF samia.actor_id() IS NULL THEN
    RETURN NEW;  -- service role: migrations, jobs, management commands
  END IF;
  IF NEW.role IS DISTINCT FROM OLD.role THEN
    IF actor_role IS DISTINCT FROM 'superadmin' AND
       (actor_role IS DISTINCT FROM 'admin' OR NEW.role IN ('admin', 'superadmin') OR OLD.role IN ('admin', 'superadmin')) THEN
      RAISE EXCEPTION 'role change not permitted' USING ERRCODE = '42501';
    END IF;
    IF NEW.id = samia.actor_id() THEN
      RAISE EXCEPTION 'nobody changes their own role' USING ERRCODE = '42501';
    END IF;
  END IF;
  IF (NEW.is_active, NEW.blocked_at, NEW.blocked_until) IS DISTINCT FROM (OLD.is_active, OLD.blocked_at, OLD.blocked_until) THEN
    IF actor_role NOT IN ('monitor', 'admin', 'superadmin') THEN
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
  IF NEW.email IS DISTINCT FROM OLD.email AND actor_role NOT IN ('admin', 'superadmin') THEN
    RAISE EXCEPTION 'email change not permitted' USING ERRCODE = '42501';
  END IF;
  RETURN NEW;
END $$;

CREATE TRIGGER accounts_user_guard_privileges BEFORE UPDATE ON public.accounts_user
  FOR EACH ROW EXECUTE FUNCTION samia.guard_user_privileges();
"""


class Migration(migrations.Migration):
    dependencies = [("accounts", "0008_login_check_and_birth_date_limits"), ("audit", "0010_partial_chain_indexes")]
    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
