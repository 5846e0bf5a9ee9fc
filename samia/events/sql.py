"""The SQL function that keeps events_raw partitioned by UTC month.

Migrations freeze a rendering of this template (events 0002); tests/rls/test_function_templates.py fails
when the template changes without a migration that carries it.
"""

# ---------------------------------------------------------------------------------------------
# One partition per UTC month, from months_back before this month to months_ahead after it. The
# events job and the demo seed call it; it returns how many partitions it created.

ENSURE_PARTITIONS = r"""
CREATE OR REPLACE FUNCTION samia.events_ensure_partitions(months_ahead int DEFAULT 2, months_back int DEFAULT 1)
  RETURNS int LANGUAGE plpgsql AS $$
DECLARE
  first_month date := (date_trunc('month', now() AT TIME ZONE 'UTC') - make_interval(months => months_back))::date;
  low date;
  partition_name text;
  created int := 0;
BEGIN
  FOR i IN 0..(months_back + months_ahead) LOOP
    low := (first_month + make_interval(months => i))::date;
    partition_name := 'events_raw_' || to_char(low, 'YYYY_MM');
    IF to_regclass('public.' || partition_name) IS NULL THEN
      EXECUTE format(
        'CREATE TABLE public.%I PARTITION OF public.events_raw FOR VALUES FROM (%L) TO (%L)',
        partition_name, low::text || ' 00:00:00+00', (low + interval '1 month')::date::text || ' 00:00:00+00'
      );
      created := created + 1;
    END IF;
  END LOOP;
  RETURN created;
END $$;
"""
