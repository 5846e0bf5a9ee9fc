from django.db import migrations

# samia.features.sql.FEATURE_ON as of this migration (copied, not imported).
FEATURE_ON = r"""
CREATE SEQUENCE IF NOT EXISTS samia.feature_generation;

CREATE OR REPLACE FUNCTION samia.feature_lookup(switch_name text) RETURNS boolean
  LANGUAGE plpgsql STABLE SECURITY DEFINER PARALLEL SAFE SET search_path = pg_catalog
  AS $$
BEGIN
  RETURN coalesce((SELECT s.active FROM public.waffle_switch s WHERE s.name = switch_name), false);
END $$;

-- Until the first compile (below): always the lookup. VOLATILE: the sequence's value is read anew
-- by every statement; the planner inlines the body into the policy's initPlan all the same.
CREATE OR REPLACE FUNCTION samia.feature_on(switch_name text) RETURNS boolean
  LANGUAGE sql VOLATILE PARALLEL RESTRICTED
  AS $$ SELECT samia.feature_lookup(switch_name) $$;

CREATE OR REPLACE FUNCTION samia.feature_compile() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog
  AS $$
DECLARE
  generation bigint;
  names text[];
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('samia.feature_compile'));
  generation := nextval('samia.feature_generation');
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    RETURN NULL;
  END IF;
  SELECT coalesce(array_agg(s.name ORDER BY s.name), '{}') INTO names FROM public.waffle_switch s WHERE s.active;
  EXECUTE format(
    'CREATE OR REPLACE FUNCTION samia.feature_on(switch_name text) RETURNS boolean '
    'LANGUAGE sql VOLATILE PARALLEL RESTRICTED AS %L',
    format(
      'SELECT CASE WHEN pg_catalog.pg_sequence_last_value(''samia.feature_generation''::pg_catalog.regclass) '
      'OPERATOR(pg_catalog.=) %s THEN switch_name OPERATOR(pg_catalog.=) ANY (%L::pg_catalog.text[]) '
      'ELSE samia.feature_lookup(switch_name) END',
      generation, names
    )
  );
  RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS waffle_switch_feature_compile ON public.waffle_switch;

CREATE TRIGGER waffle_switch_feature_compile
  AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON public.waffle_switch
  FOR EACH STATEMENT EXECUTE FUNCTION samia.feature_compile();

REVOKE ALL ON FUNCTION samia.feature_lookup(text) FROM PUBLIC;

REVOKE ALL ON FUNCTION samia.feature_on(text) FROM PUBLIC;

REVOKE ALL ON FUNCTION samia.feature_compile() FROM PUBLIC;

REVOKE ALL ON SEQUENCE samia.feature_generation FROM PUBLIC;

GRANT EXECUTE ON FUNCTION samia.feature_lookup(text) TO samia_app;

GRANT EXECUTE ON FUNCTION samia.feature_on(text) TO samia_app;

GRANT SELECT ON SEQUENCE samia.feature_generation TO samia_app;

-- The first compile: a statement trigger fires for a statement that changes no row.
UPDATE public.waffle_switch SET active = active WHERE false;
"""

# features 0002's function, back in place of the compiled one (replaced, not dropped: the policies use it).
PREVIOUS = r"""
DROP TRIGGER IF EXISTS waffle_switch_feature_compile ON public.waffle_switch;
DROP FUNCTION IF EXISTS samia.feature_compile();
CREATE OR REPLACE FUNCTION samia.feature_on(switch_name text) RETURNS boolean
  LANGUAGE plpgsql STABLE SECURITY DEFINER PARALLEL SAFE SET search_path = pg_catalog
  AS $$
BEGIN
  RETURN coalesce((SELECT s.active FROM public.waffle_switch s WHERE s.name = switch_name), false);
END $$;
REVOKE ALL ON FUNCTION samia.feature_on(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION samia.feature_on(text) TO samia_app;
DROP FUNCTION IF EXISTS samia.feature_lookup(text);
DROP SEQUENCE IF EXISTS samia.feature_generation;
"""


class Migration(migrations.Migration):
    dependencies = [("features", "0003_rls_policies")]

    operations = [migrations.RunSQL(FEATURE_ON, PREVIOUS)]
