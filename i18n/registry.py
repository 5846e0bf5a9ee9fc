"""The translatable fields: admin-edited content that must exist in Arabic and in English.

Each is a modeltranslation field (`<field>_en`, `<field>_ar` columns) registered in its own app's
translation.py. Campaign templates (notifications_campaign.templates, one object per language)
are checked for parity only: campaigns are written per language, never machine-translated.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps
from django.core.exceptions import ValidationError

from samia.accounts.models import Language

LANGUAGES = (Language.ENGLISH.value, Language.ARABIC.value)


@dataclass(frozen=True)
class TranslatableField:
    model: str  # app_label.Model
    field: str
    source_lang: str = Language.ENGLISH.value

    @property
    def model_class(self):
        return apps.get_model(self.model)

    @property
    def table(self) -> str:
        return self.model_class._meta.db_table

    def column(self, language: str) -> str:
        return f"{self.field}_{language}"

    def targets(self) -> tuple[str, ...]:
        return tuple(language for language in LANGUAGES if language != self.source_lang)


FIELDS = (
    TranslatableField("marketplace.Horoscope", "text"),
    TranslatableField("marketplace.Service", "name"),
    TranslatableField("moderation.ReasonCode", "label"),
)
BY_KEY = {(f.model, f.field): f for f in FIELDS}
MODELS = tuple(dict.fromkeys(f.model for f in FIELDS))
# Checked for parity, never translated: the table, its JSON column keyed by language, and a label.
CAMPAIGN_TEMPLATES = ("notifications.Campaign", "templates")


def field_get(model: str, field: str) -> TranslatableField:
    """Return the registered field, or raise ValidationError naming what is unknown."""
    if model not in MODELS:
        raise ValidationError({"model": [f"Unknown model; one of {', '.join(MODELS)}."]})
    found = BY_KEY.get((model, field))
    if found is None:
        known = ", ".join(f.field for f in FIELDS if f.model == model)
        raise ValidationError({"field": [f"Unknown field of {model}; one of {known}."]})
    return found
