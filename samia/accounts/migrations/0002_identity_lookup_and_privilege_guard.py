from django.db import migrations

FORWARD = r"""
-- The identity lookup that precedes binding: one account by id or by email, readable by the
-- app role without any row policy on accounts_user letting it read others.
CREATE OR REPLACE FUNCTION samia.identity(p_user_id bigint) RETURNS SETOF public.accounts_user
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
  AS $$ SELECT * FROM public.accounts_user WHERE id = p_user_id $$;

CREATE OR REPLACE FUNCTION samia.identity_by_email(p_email text) RETURNS SETOF public.accounts_user
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
  AS $$ SELECT * FROM public.accounts_user WHERE lower(email) = lower(p_email) $$;

REVOKE ALL ON FUNCTION samia.identity(bigint), samia.identity_by_email(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION samia.identity(bigint), samia.identity_by_email(text) TO samia_app;

-- Roles and restrictions change only at the hands of staff, whatever the row policies allow.
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
  IF (NEW.is_active, NEW.blocked_at, NEW.blocked_until) IS DISTINCT FROM (OLD.is_active, OLD.blocked_at, OLD.blocked_until)
     AND actor_role NOT IN ('monitor', 'admin', 'superadmin') THEN
    RAISE EXCEPTION 'restriction change not permitted' USING ERRCODE = '42501';
  END IF;
  IF NEW.email IS DISTINCT FROM OLD.email AND actor_role NOT IN ('admin', 'superadmin') THEN
    RAISE EXCEPTION 'email change not permitted' USING ERRCODE = '42501';
  END IF;
  RETURN NEW;
END $$;

CREATE TRIGGER accounts_user_guard_privileges BEFORE UPDATE ON public.accounts_user
  FOR EACH ROW EXECUTE FUNCTION samia.guard_user_privileges();
"""

BACKWARD = r"""
DROP TRIGGER IF EXISTS accounts_user_guard_privileges ON public.accounts_user;
DROP FUNCTION IF EXISTS samia.guard_user_privileges();
DROP FUNCTION IF EXISTS samia.identity_by_email(text);
DROP FUNCTION IF EXISTS samia.identity(bigint);
"""


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial"), ("rls", "0001_app_role_and_identity_helpers")]
    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
