import django.db.models
from django.db import migrations

import samia.accounts.validators

# The identity lookup no longer hands out password hashes; samia.login_check compares a candidate
# hash in Postgres instead. Rendering of samia.accounts.sql.IDENTITY_LOOKUP as of this migration.
FORWARD = r"""
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

BACKWARD = r"""
DROP FUNCTION IF EXISTS samia.login_check(bigint, text);

CREATE OR REPLACE FUNCTION samia.identity(p_user_id bigint) RETURNS SETOF public.accounts_user
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
  AS $$ SELECT * FROM public.accounts_user WHERE id = p_user_id $$;

CREATE OR REPLACE FUNCTION samia.identity_by_email(p_email text) RETURNS SETOF public.accounts_user
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
  AS $$ SELECT * FROM public.accounts_user WHERE lower(email) = lower(p_email) $$;
"""


class Migration(migrations.Migration):
    dependencies = [("accounts", "0005_rls_policies")]
    operations = [
        migrations.RunSQL(FORWARD, BACKWARD),
        migrations.AlterField(
            model_name="user",
            name="date_of_birth",
            field=django.db.models.DateField(
                blank=True, null=True, validators=[samia.accounts.validators.validate_date_of_birth]
            ),
        ),
    ]
