from django.db import migrations

# Monitors may update clients' and readers' rows (RLS) to block them; this trigger narrows that to
# the restriction columns, and keeps the rank rules of moderation.services in the database too:
# nobody restricts themselves, only a superadmin restricts an admin, nobody restricts a superadmin.
FORWARD = r"""
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
"""

# The function as 0002 left it.
BACKWARD = r"""
CREATE OR REPLACE FUNCTION samia.guard_user_privileges() RETURNS trigger
  LANGUAGE plpgsql AS $$
DECLARE actor_role text := samia.actor_role();
BEGIN
  IF samia.actor_id() IS NULL THEN
    RETURN NEW;
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
"""


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_rls_policies")]
    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
