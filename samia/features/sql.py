"""The SQL function every feature-gated policy calls: is this waffle switch on?

Migrations freeze a rendering of it (features 0002); tests/rls/test_function_templates.py fails when
the template changes without a migration that carries it.
"""

# ---------------------------------------------------------------------------------------------
# STABLE and wrapped as `(select samia.feature_on('<name>'))` in policies: one evaluation per
# statement, so a policy costs one index probe of waffle_switch however many rows it filters.
# SECURITY DEFINER: the answer does not depend on who asks (an unknown switch is off).

FEATURE_ON = r"""
CREATE OR REPLACE FUNCTION samia.feature_on(switch_name text) RETURNS boolean
  LANGUAGE plpgsql STABLE SECURITY DEFINER PARALLEL SAFE SET search_path = pg_catalog
  AS $$
BEGIN
  RETURN coalesce((SELECT s.active FROM public.waffle_switch s WHERE s.name = switch_name), false);
END $$;

REVOKE ALL ON FUNCTION samia.feature_on(text) FROM PUBLIC;

GRANT EXECUTE ON FUNCTION samia.feature_on(text) TO samia_app;
"""
