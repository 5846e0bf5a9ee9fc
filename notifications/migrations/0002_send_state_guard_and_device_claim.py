# GUARD_SQL was state_guard_sql() of notifications/states.py when this was written (0008 replaces it);
# tests/notifications/test_m22_notifications.py compares the latest. DEVICE_CLAIM_SQL lets a signed-in user register a
# push token that another account registered before (a shared or resold phone) without reading it.
from django.db import migrations

GUARD_SQL = """
CREATE OR REPLACE FUNCTION notifications_send_state_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.state IS DISTINCT FROM OLD.state
       AND (OLD.state, NEW.state) NOT IN (VALUES ('planned','queued'), ('planned','suppressed'), ('planned','opted_out'), ('planned','skipped_quiet'), ('planned','expired'), ('planned','cancelled'), ('planned','failed'), ('queued','queued'), ('queued','sent'), ('queued','unknown'), ('queued','suppressed'), ('queued','opted_out'), ('queued','skipped_quiet'), ('queued','expired'), ('queued','cancelled'), ('queued','failed'), ('sent','delivered'), ('sent','opened'), ('sent','clicked'), ('sent','failed'), ('sent','bounced'), ('delivered','opened'), ('delivered','clicked'), ('delivered','bounced'), ('opened','clicked'), ('unknown','sent'), ('unknown','delivered'), ('unknown','opened'), ('unknown','clicked'), ('unknown','failed'), ('unknown','bounced')) THEN
        RAISE EXCEPTION 'send % cannot move from % to %', OLD.id, OLD.state, NEW.state
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;
DROP TRIGGER IF EXISTS notifications_send_state_guard ON notifications_send;
CREATE TRIGGER notifications_send_state_guard BEFORE UPDATE OF state ON notifications_send
    FOR EACH ROW EXECUTE FUNCTION notifications_send_state_guard();
"""

DEVICE_CLAIM_SQL = r"""
CREATE OR REPLACE FUNCTION notifications_device_claim(p_platform text, p_token text, p_hash text) RETURNS bigint
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
  me bigint := samia.actor_id();
  device bigint;
BEGIN
  IF me IS NULL THEN
    RAISE EXCEPTION 'a device is registered by a signed-in user' USING ERRCODE = '42501';
  END IF;
  INSERT INTO notifications_devicetoken (user_id, platform, token, active, registered_at, deactivated_at, deactivated_reason)
  VALUES (me, p_platform, p_token, true, clock_timestamp(), NULL, '')
  ON CONFLICT (platform, token) DO UPDATE
    SET user_id = EXCLUDED.user_id, active = true, registered_at = clock_timestamp(),
        deactivated_at = NULL, deactivated_reason = ''
  RETURNING id INTO device;
  -- A token the provider declared dead is alive again when the app registers it anew.
  UPDATE notifications_suppression SET lifted_at = clock_timestamp()
  WHERE channel = 'push' AND reason = 'invalid_token' AND lifted_at IS NULL AND address_hash = p_hash;
  RETURN device;
END $$;
REVOKE ALL ON FUNCTION notifications_device_claim(text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION notifications_device_claim(text, text, text) TO samia_app;
"""

BACKWARD = """
DROP TRIGGER IF EXISTS notifications_send_state_guard ON notifications_send;
DROP FUNCTION IF EXISTS notifications_send_state_guard();
DROP FUNCTION IF EXISTS notifications_device_claim(text, text, text);
"""


class Migration(migrations.Migration):
    dependencies = [("notifications", "0001_initial"), ("rls", "0001_app_role_and_identity_helpers")]
    operations = [migrations.RunSQL(GUARD_SQL + DEVICE_CLAIM_SQL, BACKWARD)]
