"""The device claim function (the send state guard is rendered by states.py from FORWARD).

Migrations freeze a rendering of this template (notifications 0011); tests/rls/test_function_templates.py
fails when the template changes without a migration that carries it.
"""

# ---------------------------------------------------------------------------------------------
# A signed-in user registers a push token that another account registered before (a shared or
# resold phone) without reading that account's row: the function runs as its owner, takes the
# caller from samia.actor_id(), and revives a token the provider had declared dead. The install
# owns the token (FCM's and APNs' model): the row moves to the caller, so the previous account's
# sends stop reaching the device; `previous_user` names that account for the audit entry.

DEVICE_CLAIM = r"""
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
