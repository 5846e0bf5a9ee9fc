# DEVICE_CLAIM_SQL was notifications/sql.py DEVICE_CLAIM when this was written: the claim also
# names the account the token moved from, for the audit entry. Its result type changes, so the
# function is dropped first; PREVIOUS_SQL (0002's) restores the old one on the way back.
from django.db import migrations

DEVICE_CLAIM_SQL = r"""
CREATE OR REPLACE FUNCTION notifications_device_claim(
  p_platform text, p_token text, p_hash text, OUT device bigint, OUT previous_user bigint
)
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
  me bigint := samia.actor_id();
BEGIN
  IF me IS NULL THEN
    RAISE EXCEPTION 'a device is registered by a signed-in user' USING ERRCODE = '42501';
  END IF;
  SELECT user_id INTO previous_user FROM notifications_devicetoken
  WHERE platform = p_platform AND token = p_token FOR UPDATE;
  IF previous_user = me THEN
    previous_user := NULL;
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
END $$;
REVOKE ALL ON FUNCTION notifications_device_claim(text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION notifications_device_claim(text, text, text) TO samia_app;
"""

PREVIOUS_SQL = r"""
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

DROP = "DROP FUNCTION IF EXISTS notifications_device_claim(text, text, text);\n"


class Migration(migrations.Migration):
    dependencies = [("notifications", "0010_dispatch_ticks_expire")]
    operations = [migrations.RunSQL(DROP + DEVICE_CLAIM_SQL, DROP + PREVIOUS_SQL)]
