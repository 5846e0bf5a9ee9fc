"""The SQL of AR: whether a stored object belongs to a removed asset, for the signed download.

`GET /files/{token}` runs as whoever follows the link, often nobody the policies admit; the
download still has to refuse an object whose asset was removed (410), even if deleting the object
failed. This function answers that one boolean for a key and nothing else. Migrations freeze a
rendering (ar 0002); tests/rls/test_function_templates.py fails when it changes without one.
"""

KEY_REMOVED = r"""
CREATE OR REPLACE FUNCTION samia.ar_key_removed(p_key text) RETURNS boolean
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
  SELECT EXISTS (SELECT 1 FROM ar_arasset WHERE storage_key = p_key AND removed_at IS NOT NULL) $$;
REVOKE ALL ON FUNCTION samia.ar_key_removed(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION samia.ar_key_removed(text) TO samia_app;
"""
