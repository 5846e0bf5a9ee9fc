"""Who may see and change the translation state: admins and superadmins; nobody deletes.

The public horoscope route needs to know which translations are withheld; it asks through the
SECURITY DEFINER function samia.i18n_withheld (i18n/sql.py), which answers that and nothing else.
"""

from samia.rls.registry import ADMINS, allow, declare

TRANSLATIONS_TABLE = "i18n_fieldtranslation"
POLICIES_TABLE = "i18n_fieldpolicy"
GLOSSARY_TABLE = "i18n_glossaryterm"

TRANSLATIONS = declare(
    "i18n.FieldTranslation",
    allow("select", ADMINS),
    allow("insert", ADMINS),
    allow("update", ADMINS),
    module=__name__,
)

FIELD_POLICIES = declare(
    "i18n.FieldPolicy",
    allow("select", ADMINS),
    allow("insert", ADMINS),
    allow("update", ADMINS),
    module=__name__,
)

GLOSSARY = declare(
    "i18n.GlossaryTerm",
    allow("select", ADMINS),
    allow("insert", ADMINS),
    allow("update", ADMINS),
    module=__name__,
)
