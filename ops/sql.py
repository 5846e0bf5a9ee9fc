"""The SQL function the request path asks whether a provider is switched on.

Migrations freeze a rendering of it (ops 0004); tests/rls/test_function_templates.py fails when the
template changes without a migration that carries it.
"""

# ---------------------------------------------------------------------------------------------
# The switches' rows (reason, who changed them) are for staff only (policies.py); any request may
# still need to know whether a provider is on (registry.get() while sending an OTP, say). This
# answers that one boolean and nothing else. SECURITY DEFINER: the answer does not depend on who
# asks; a provider without a row is on.

PROVIDER_ENABLED = r"""
CREATE OR REPLACE FUNCTION samia.provider_enabled(provider_name text) RETURNS boolean
  LANGUAGE plpgsql STABLE SECURITY DEFINER PARALLEL SAFE SET search_path = pg_catalog
  AS $$
BEGIN
  RETURN coalesce((SELECT s.enabled FROM public.ops_providerstate s WHERE s.name = provider_name), true);
END $$;

REVOKE ALL ON FUNCTION samia.provider_enabled(text) FROM PUBLIC;

GRANT EXECUTE ON FUNCTION samia.provider_enabled(text) TO samia_app;
"""
