"""The i18n demo: toggles, a small glossary and a few auto, stale and missing translations on seed_demo's world."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from i18n.models import FieldPolicy, FieldTranslation, GlossaryTerm
from i18n.registry import FIELDS
from i18n.selectors import sha256
from samia.marketplace.models import Horoscope

GLOSSARY = [
    ("SAMIA", "سامية", True),
    ("SAMIA-TAROT", "SAMIA-TAROT", True),
    ("tarot", "التاروت", False),
    ("horoscope", "الأبراج", False),
    ("reading", "قراءة", False),
]
# Auto-translation on for the horoscopes and the service names; reason labels stay staff-written.
AUTO_TRANSLATE = {("marketplace.Horoscope", "text"), ("marketplace.Service", "name")}


def demo_seeded() -> bool:
    return FieldTranslation.objects.exists()


@transaction.atomic
def demo_i18n_create() -> dict:
    """Create the toggles, the glossary and translation rows: 3 auto, 2 stale, 1 reviewed, 1 approved."""
    for registered in FIELDS:
        FieldPolicy.objects.get_or_create(
            model=registered.model,
            field=registered.field,
            defaults={"auto_translate": (registered.model, registered.field) in AUTO_TRANSLATE},
        )
    for term_en, term_ar, protected in GLOSSARY:
        GlossaryTerm.objects.get_or_create(term_en=term_en, defaults={"term_ar": term_ar, "protected": protected})
    horoscopes = list(Horoscope.objects.order_by("-date", "sign")[:7])
    now = timezone.now()
    # (status, stale): the stale ones were translated from an earlier version of the English text.
    states = [("auto", False)] * 3 + [("auto", True), ("reviewed", True), ("reviewed", False), ("approved", False)]
    rows = [
        FieldTranslation(
            model="marketplace.Horoscope",
            object_id=horoscope.pk,
            field="text",
            language="ar",
            source_lang="en",
            status=status,
            source_sha256=sha256(horoscope.text_en + (" (earlier draft)" if stale else "")),
            provider="translation",
            translated_at=now,
            reviewed_at=now if status != "auto" else None,
        )
        for horoscope, (status, stale) in zip(horoscopes, states, strict=False)
    ]
    FieldTranslation.objects.bulk_create(rows, ignore_conflicts=True)
    return {"translations": len(rows), "glossary": len(GLOSSARY), "policies": len(FIELDS)}
