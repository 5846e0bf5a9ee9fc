"""The media guard trigger (the order guard is rendered by states.py from the state machine).

Migrations freeze a rendering of this template (marketplace 0006); tests/rls/test_function_templates.py
fails when the template changes without a migration that carries it.
"""

# ---------------------------------------------------------------------------------------------
# A monitor may update media assets (RLS) to remove them: the guard lets a monitor set a media
# asset's removed_at and nothing else.

MEDIA_GUARD = r"""
CREATE OR REPLACE FUNCTION samia.guard_media_change() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  IF samia.actor_role() = 'monitor'
     AND (to_jsonb(NEW) - 'removed_at') IS DISTINCT FROM (to_jsonb(OLD) - 'removed_at') THEN
    RAISE EXCEPTION 'a monitor only removes media' USING ERRCODE = '42501';
  END IF;
  RETURN NEW;
END $$;

DROP TRIGGER IF EXISTS marketplace_media_guard_change ON public.marketplace_mediaasset;
CREATE TRIGGER marketplace_media_guard_change BEFORE UPDATE ON public.marketplace_mediaasset
  FOR EACH ROW EXECUTE FUNCTION samia.guard_media_change();
"""
