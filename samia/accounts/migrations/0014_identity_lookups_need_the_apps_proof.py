from django.db import migrations

# The identity lookups and the login check answer only with the app's proof for the value asked on
# this connection, so a session holding the app's database login but not the binding key can neither
# walk the accounts nor test password guesses outside the login's limits (review stop 26, R1).
# Rendering of samia.accounts.sql.IDENTITY_LOOKUP.
FORWARD = r"""
DROP FUNCTION IF EXISTS samia.identity_by_email(text);
DROP FUNCTION IF EXISTS samia.identity(bigint);
DROP FUNCTION IF EXISTS samia.login_check(bigint, text);

CREATE OR REPLACE FUNCTION samia.identity_masked(p_user_id bigint) RETURNS SETOF public.accounts_user
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
  AS $$ SELECT masked.* FROM public.accounts_user u, jsonb_populate_record(u, jsonb_build_object('password',
          CASE WHEN u.password LIKE '%$%' THEN '!' || regexp_replace(u.password, '[$][^$]*$', '') ELSE '!' END)) masked
        WHERE u.id = p_user_id $$;

CREATE OR REPLACE FUNCTION samia.identity(p_user_id bigint, p_proof text) RETURNS SETOF public.accounts_user
  LANGUAGE sql STABLE SECURITY DEFINER PARALLEL RESTRICTED SET search_path = pg_catalog, public
  AS $$ SELECT masked.* FROM samia.identity_masked(p_user_id) masked
        WHERE samia.purpose_proven('identity', p_user_id::text, p_proof) $$;

CREATE OR REPLACE FUNCTION samia.identity_by_email(p_email text, p_proof text) RETURNS SETOF public.accounts_user
  LANGUAGE sql STABLE SECURITY DEFINER PARALLEL RESTRICTED SET search_path = pg_catalog, public
  AS $$ SELECT masked.* FROM public.accounts_user u, samia.identity_masked(u.id) masked
        WHERE lower(u.email) = lower(p_email) AND samia.purpose_proven('email', p_email, p_proof) $$;

CREATE OR REPLACE FUNCTION samia.login_check(p_user_id bigint, p_candidate text, p_proof text) RETURNS boolean
  LANGUAGE sql STABLE SECURITY DEFINER PARALLEL RESTRICTED SET search_path = pg_catalog, public
  AS $$ SELECT EXISTS (SELECT FROM public.accounts_user
                       WHERE id = p_user_id AND password = p_candidate AND password NOT LIKE '!%')
           AND samia.purpose_proven('login', p_user_id::text, p_proof) $$;

REVOKE ALL ON FUNCTION samia.identity_masked(bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION samia.identity(bigint, text), samia.identity_by_email(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION samia.identity(bigint, text), samia.identity_by_email(text, text) TO samia_app;
REVOKE ALL ON FUNCTION samia.login_check(bigint, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION samia.login_check(bigint, text, text) TO samia_app;
"""

BACKWARD = r"""DROP FUNCTION IF EXISTS samia.identity_by_email(text, text);
DROP FUNCTION IF EXISTS samia.identity(bigint, text);
DROP FUNCTION IF EXISTS samia.login_check(bigint, text, text);
DROP FUNCTION IF EXISTS samia.identity_masked(bigint);

CREATE OR REPLACE FUNCTION samia.identity(p_user_id bigint) RETURNS SETOF public.accounts_user
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
  AS $$ SELECT masked.* FROM public.accounts_user u, jsonb_populate_record(u, jsonb_build_object('password',
          CASE WHEN u.password LIKE '%$%' THEN '!' || regexp_replace(u.password, '[$][^$]*$', '') ELSE '!' END)) masked
        WHERE u.id = p_user_id $$;

CREATE OR REPLACE FUNCTION samia.identity_by_email(p_email text) RETURNS SETOF public.accounts_user
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
  AS $$ SELECT masked.* FROM public.accounts_user u, samia.identity(u.id) masked WHERE lower(u.email) = lower(p_email) $$;

CREATE OR REPLACE FUNCTION samia.login_check(p_user_id bigint, p_candidate text) RETURNS boolean
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
  AS $$ SELECT EXISTS (SELECT FROM public.accounts_user
                       WHERE id = p_user_id AND password = p_candidate AND password NOT LIKE '!%') $$;

REVOKE ALL ON FUNCTION samia.identity(bigint), samia.identity_by_email(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION samia.identity(bigint), samia.identity_by_email(text) TO samia_app;
REVOKE ALL ON FUNCTION samia.login_check(bigint, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION samia.login_check(bigint, text) TO samia_app;
"""


class Migration(migrations.Migration):
    dependencies = [("accounts", "0013_field_verbose_names"), ("rls", "0004_purpose_proof")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
