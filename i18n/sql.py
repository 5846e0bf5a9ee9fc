"""The SQL of i18n: the withheld-translations and phone-language functions and the parity report's statement.

Migrations freeze renderings of WITHHELD (i18n 0002) and PHONE_LANGUAGE (i18n 0005); tests/rls/test_function_templates.py
fails when the template changes without a migration that carries it.
"""


# ---------------------------------------------------------------------------------------------
# Which stored translations of `ids` may not be served: machine translations of a field whose
# policy requires review (no policy row: required), not approved yet. SECURITY DEFINER because the
# public horoscope route runs as callers who may not read i18n_fieldtranslation (admins only); it
# answers (object id, language, status) for the ids asked and nothing else.

WITHHELD = r"""
CREATE OR REPLACE FUNCTION samia.i18n_withheld(p_model text, p_field text, p_ids bigint[])
  RETURNS TABLE (object_id bigint, language text, status text)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
  SELECT t.object_id, t.language::text, t.status::text
    FROM i18n_fieldtranslation t
   WHERE t.model = p_model AND t.field = p_field AND t.object_id = ANY(p_ids)
     AND t.auto_translated AND t.status <> 'approved'
     AND coalesce((SELECT p.review_required FROM i18n_fieldpolicy p
                    WHERE p.model = p_model AND p.field = p_field), true) $$;

REVOKE ALL ON FUNCTION samia.i18n_withheld(text, text, bigint[]) FROM PUBLIC;

GRANT EXECUTE ON FUNCTION samia.i18n_withheld(text, text, bigint[]) TO samia_app;
"""

WITHHELD_CALL = "SELECT object_id, language, status FROM samia.i18n_withheld(%s, %s, %s)"


# ---------------------------------------------------------------------------------------------
# The profile language of the account(s) holding a phone number, NULL when none or when they
# disagree. The SMS HELP reply is answered inside Twilio's webhook, which runs with no identity and
# so may not read accounts_user; this answers one language code and nothing else, and only to a
# caller that proves it is the app: p_proof is samia.rls.binding.purpose_proof("phone", number), an
# HMAC under the binding key tied to this connection (checked by samia.purpose_proven). Without it
# (a session holding only the app's login) the answer is always NULL, so the function tells nobody
# else whether a number has an account.

PHONE_LANGUAGE = r"""
DROP FUNCTION IF EXISTS samia.i18n_phone_language(text);

CREATE OR REPLACE FUNCTION samia.i18n_phone_language(p_phone text, p_proof text) RETURNS text
  LANGUAGE sql STABLE SECURITY DEFINER PARALLEL RESTRICTED SET search_path = pg_catalog, public AS $$
  SELECT CASE WHEN count(DISTINCT u.language) = 1 THEN min(u.language)::text END
    FROM accounts_user u
   WHERE u.phone = p_phone AND p_phone <> '' AND samia.purpose_proven('phone', p_phone, p_proof) $$;

REVOKE ALL ON FUNCTION samia.i18n_phone_language(text, text) FROM PUBLIC;

GRANT EXECUTE ON FUNCTION samia.i18n_phone_language(text, text) TO samia_app;
"""

PHONE_LANGUAGE_CALL = "SELECT samia.i18n_phone_language(%s, %s)"


# ---------------------------------------------------------------------------------------------
# Parity of one field: the objects without a text per language (one pass over the table), then the
# translation rows per language and state, each joined to its object by primary key. "Stale": the
# row was made from a source whose sha256 is not the current source's (or the object is gone).
# Driving the second count from the translation rows keeps it proportional to the translations,
# not to the table. Table and column names come from i18n/registry.py, never from a request.


def missing_sql(*, table: str, columns: list[str]) -> str:
    """Return the statement counting the objects, then those without a text in each of `columns`."""
    missing = ", ".join(f"count(*) FILTER (WHERE coalesce({column}, '') = '')" for column in columns)
    return f"SELECT count(*), {missing} FROM {table}"


def states_sql(*, table: str, source_column: str) -> str:
    """Return the statement counting one field's translation rows by language and state (params: model, field)."""
    return f"""
SELECT t.language,
       count(*) FILTER (WHERE t.status = 'auto') AS auto,
       count(*) FILTER (WHERE t.status = 'reviewed') AS reviewed,
       count(*) FILTER (WHERE t.status = 'approved') AS approved,
       count(*) FILTER (WHERE o.id IS NULL
                           OR t.source_sha256 <> encode(sha256(convert_to(coalesce(o.{source_column}, ''), 'UTF8')), 'hex'))
         AS stale
  FROM i18n_fieldtranslation t
  LEFT JOIN {table} o ON o.id = t.object_id
 WHERE t.model = %s AND t.field = %s
 GROUP BY t.language
"""


CAMPAIGN_STATUS = """
SELECT count(*) AS total,
       count(*) FILTER (WHERE coalesce(templates -> %s ->> 'body', templates -> %s ->> 'content_sid', '') = '') AS missing
  FROM notifications_campaign
"""
