from django.db import migrations

# samia.login_check answers only with the app's proof for the user id on this connection, so a session
# holding the app's database login but not the binding key cannot test password guesses outside the
# login's limits (review stop 26, R1). Rendering of samia.accounts.sql.IDENTITY_LOOKUP.
FORWARD = r"""
CREATE OR REPLACE FUNCTION samia.identity(p_user_id bigint) RETURNS SETOF public.accounts_user
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
  AS $$ SELECT masked.* FROM public.accounts_user u, jsonb_populate_record(u, jsonb_build_object('password',
          CASE WHEN u.password LIKE '%$%' THEN '!' || regexp_replace(u.password, '[$][^$]*$', '') ELSE '!' END)) masked
        WHERE u.id = p_user_id $$;

CREATE OR REPLACE FUNCTION samia.identity_by_email(p_email text) RETURNS SETOF public.accounts_user
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
  AS $$ SELECT masked.* FROM public.accounts_user u, samia.identity(u.id) masked WHERE lower(u.email) = lower(p_email) $$;

DROP FUNCTION IF EXISTS samia.login_check(bigint, text);

CREATE OR REPLACE FUNCTION samia.login_check(p_user_id bigint, p_candidate text, p_proof text) RETURNS boolean
  LANGUAGE sql STABLE SECURITY DEFINER PARALLEL RESTRICTED SET search_path = pg_catalog, public
  AS $$ SELECT EXISTS (SELECT FROM public.accounts_user
                       WHERE id = p_user_id AND password = p_candidate AND password NOT LIKE '!%'
                         AND EXISTS (SELECT FROM samia_private.binding_key k
                                      WHERE p_proof = encode(public.hmac(convert_to(
                                        'login:' || p_user_id || '@' || (SELECT pg_backend_pid() || ':' || (extract(epoch FROM backend_start) * 1000000)::bigint FROM pg_catalog.pg_stat_get_activity(pg_backend_pid())), 'UTF8'),
                                        k.key, 'sha256'), 'hex'))) $$;

REVOKE ALL ON FUNCTION samia.identity(bigint), samia.identity_by_email(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION samia.identity(bigint), samia.identity_by_email(text) TO samia_app;
REVOKE ALL ON FUNCTION samia.login_check(bigint, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION samia.login_check(bigint, text, text) TO samia_app;
"""

BACKWARD = r"""DROP FUNCTION IF EXISTS samia.login_check(bigint, text, text);

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
    dependencies = [("accounts", "0013_field_verbose_names"), ("rls", "0002_web_login_and_signed_identity")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
