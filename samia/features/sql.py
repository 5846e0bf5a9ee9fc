"""The SQL every feature-gated policy calls: is this waffle switch on?

Migrations freeze a rendering of it (features 0004); tests/rls/test_function_templates.py fails when
the template changes without a migration that carries it.
"""

# ---------------------------------------------------------------------------------------------
# Policies call `(select samia.feature_on('<name>'))`: one evaluation per statement (an initPlan).
#
# samia.feature_lookup is the exact answer: it reads waffle_switch under the statement's snapshot
# (PL/pgSQL, SECURITY DEFINER so that the answer does not depend on who asks; an unknown switch is
# off). It costs a query of its own, about 11 us a statement, 12% of the monitor's thread query.
#
# samia.feature_on is what the policies call: a one-expression SQL function, which the planner
# inlines, recompiled by samia.feature_compile whenever waffle_switch changes (a statement trigger)
# with the names of the switches that are on and a generation number:
#
#   CASE WHEN last value of samia.feature_generation = <generation>
#        THEN '<name>' = ANY ('{<switches on>}') ELSE samia.feature_lookup('<name>') END
#
# The generation is a sequence, which is not transactional: a compile takes the next value before it
# commits, and a rolled-back one keeps it. So a statement uses the compiled answer only while the
# definition it planned with is the latest compile; while a change is in flight, or a session has not
# yet seen the new definition (one in the middle of a transaction), the sequence has moved on and it
# asks the table. Either way the next statement after a commit sees the change, and samia_app can
# neither recompile (not the owner), nor move the sequence (SELECT only), nor set anything it reads.
#
# Compiles run one at a time (an advisory lock) and read the table after the lock, so each sees
# every compile committed before it; outside READ COMMITTED the snapshot could predate one, so such a
# compile only moves the generation on, handing the answer to the lookup until the next compile.

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
