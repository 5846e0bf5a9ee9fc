"""Reads: the parity report, the review queue, and which translations may not be served."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

import polib
from django.apps import apps
from django.conf import settings
from django.db import connection
from django.db.models import Case, Exists, OuterRef, QuerySet, TextField, Value, When
from django.db.models.functions import SHA256, Coalesce

from i18n import sql
from i18n.models import FieldTranslation, GlossaryTerm
from i18n.policies import GLOSSARY, TRANSLATIONS
from i18n.registry import CAMPAIGN_TEMPLATES, FIELDS, LANGUAGES, MODELS, TranslatableField
from samia.rls import binding
from samia.rls.registry import Identity


def sha256(text: str | None) -> str:
    return hashlib.sha256((text or "").encode()).hexdigest()


def withheld(model: str, field: str, ids: list[int]) -> dict[tuple[int, str], str]:
    """Return {(id, language): status} of the machine translations of `ids` not approved where review is required."""
    with connection.cursor() as cursor:
        cursor.execute(sql.WITHHELD_CALL, [model, field, list(ids)])
        return {(object_id, language): status for object_id, language, status in cursor.fetchall()}


def phone_language(number: str) -> str | None:
    """Return the profile language of the account(s) holding `number`, or None (none, or they disagree)."""
    if "\x00" in number:  # no account holds it, and Postgres text cannot carry it (a DataError, not an answer)
        return None
    with connection.cursor() as cursor:
        cursor.execute(sql.PHONE_LANGUAGE_CALL, [number, binding.purpose_proof("phone", number)])
        return cursor.fetchone()[0]


def stale_annotation():
    """`stale`: the source text of the row's object no longer hashes to the row's source_sha256."""
    whens = []
    for registered in FIELDS:
        current = (
            registered.model_class.objects.filter(pk=OuterRef("object_id"))
            .annotate(
                source_hash=SHA256(
                    Coalesce(registered.column(registered.source_lang), Value(""), output_field=TextField())
                )
            )
            .filter(source_hash=OuterRef("source_sha256"))
        )
        whens.append(When(model=registered.model, field=registered.field, then=~Exists(current)))
    return Case(*whens, default=Value(False))


def translation_list(*, identity: Identity, status: str | None = None, stale: bool | None = None) -> QuerySet:
    """Return the field translations `identity` may see, oldest first, each with `stale` computed now."""
    rows = TRANSLATIONS.scope(FieldTranslation.objects.all(), identity).annotate(stale=stale_annotation())
    if status:
        rows = rows.filter(status=status)
    if stale is not None:
        rows = rows.filter(stale=stale)
    return rows.order_by("id")


def glossary_list(*, identity: Identity) -> list[GlossaryTerm]:
    """Return the glossary `identity` may read."""
    return list(GLOSSARY.scope(GlossaryTerm.objects.all(), identity))


def field_status(registered: TranslatableField) -> list[dict]:
    """Return one row per language: total, missing, auto, reviewed, approved, stale and parity (%)."""
    quote = connection.ops.quote_name
    table = quote(registered.table)
    with connection.cursor() as cursor:
        columns = [quote(registered.column(language)) for language in LANGUAGES]
        cursor.execute(sql.missing_sql(table=table, columns=columns))
        total, *missing = cursor.fetchone()
        source_column = quote(registered.column(registered.source_lang))
        cursor.execute(sql.states_sql(table=table, source_column=source_column), [registered.model, registered.field])
        states = {language: counts for language, *counts in cursor.fetchall()}
    rows = []
    for language, absent in zip(LANGUAGES, missing, strict=True):
        auto, reviewed, approved, stale = states.get(language, (0, 0, 0, 0))
        rows.append(
            {
                "model": registered.model,
                "field": registered.field,
                "language": language,
                "source": language == registered.source_lang,
                "total": total,
                "missing": absent,
                "auto": auto,
                "reviewed": reviewed,
                "approved": approved,
                "stale": stale,
                "parity": _percent(total - absent, total),
            }
        )
    return rows


def campaign_status() -> list[dict]:
    """Return, per language, how many campaigns have no template in it (checked, never translated)."""
    model, _column = CAMPAIGN_TEMPLATES
    rows = []
    for language in LANGUAGES:
        with connection.cursor() as cursor:
            cursor.execute(sql.CAMPAIGN_STATUS, [language, language])
            total, missing = cursor.fetchone()
        rows.append(
            {
                "model": model,
                "language": language,
                "total": total,
                "missing": missing,
                "parity": _percent(total - missing, total),
            }
        )
    return rows


def catalog_status() -> list[dict]:
    """Return, per language, the project's gettext msgids with no (non-fuzzy) string in that language."""
    return [_catalog(language) for language in LANGUAGES]


def _catalog(language: str) -> dict:
    # English is the source language: a msgid is its own English string unless an English catalog says otherwise.
    path = Path(settings.LOCALE_PATHS[0]) / language / "LC_MESSAGES" / "django.po"
    total, missing = _catalog_counts(str(path), path.stat().st_mtime_ns if path.exists() else 0, language)
    return {"language": language, "total": total, "missing": missing, "parity": _percent(total - missing, total)}


@cache
def _catalog_counts(path: str, modified: int, language: str) -> tuple[int, int]:
    if not modified:
        return (0, 0) if language != settings.LANGUAGE_CODE else (_msgid_count(), 0)
    entries = [e for e in polib.pofile(path) if not e.obsolete and e.msgid]
    missing = sum(1 for e in entries if e.fuzzy or not (e.msgstr or any(e.msgstr_plural.values())))
    return len(entries), missing


def _msgid_count() -> int:
    """The msgids of the first other catalog (the source language has the same ones)."""
    for language in LANGUAGES:
        path = Path(settings.LOCALE_PATHS[0]) / language / "LC_MESSAGES" / "django.po"
        if language != settings.LANGUAGE_CODE and path.exists():
            return len([e for e in polib.pofile(str(path)) if not e.obsolete and e.msgid])
    return 0


def translation_status(*, identity: Identity, model: str | None = None) -> dict:
    """Return the parity report `identity` may read: fields per language, campaign templates, gettext catalogs."""
    # Postgres scopes every count to what `identity` may read (admins: everything; the route admits only them).
    fields = [row for registered in FIELDS if model in (None, registered.model) for row in field_status(registered)]
    report = {"fields": fields}
    if model in (None, CAMPAIGN_TEMPLATES[0]) and apps.is_installed("notifications"):
        report["campaigns"] = campaign_status()
    if model is None:
        report["catalog"] = catalog_status()
    return report


def _percent(part: int, total: int) -> float:
    return 100.0 if not total else round(100.0 * part / total, 1)


STATUS_MODELS = (*MODELS, CAMPAIGN_TEMPLATES[0])
