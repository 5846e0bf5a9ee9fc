"""The translation state of admin-edited fields, the auto-translate toggle and the glossary.

- FieldTranslation: one row per (model, object, field, language) that was machine-translated or
  reviewed; "stale" is not stored but computed when read (the source's sha256 differs).
- FieldPolicy: per translatable field, whether it may be auto-translated and whether an auto text
  must be approved before it is served.
- GlossaryTerm: an English/Arabic pair; a protected term is never translated.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from samia.accounts.models import Language


class FieldTranslation(models.Model):
    class Status(models.TextChoices):
        AUTO = "auto", _("Auto-translated")
        REVIEWED = "reviewed", _("Reviewed")
        APPROVED = "approved", _("Approved")

    model = models.CharField(
        max_length=64, help_text=_("app_label.Model, e.g. marketplace.Horoscope"), verbose_name=_("model")
    )
    object_id = models.BigIntegerField(verbose_name=_("object ID"))
    field = models.CharField(max_length=64, verbose_name=_("field"))
    language = models.CharField(max_length=2, choices=Language.choices, verbose_name=_("language"))
    source_lang = models.CharField(max_length=2, choices=Language.choices, verbose_name=_("source language"))
    auto_translated = models.BooleanField(default=True, verbose_name=_("auto translated"))
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.AUTO, verbose_name=_("status"))
    glossary_miss = models.BooleanField(
        default=False, help_text=_("A glossary term's translation is not in the text."), verbose_name=_("glossary miss")
    )
    source_sha256 = models.CharField(
        max_length=64,
        help_text=_("sha256 of the source text this translation was made from"),
        verbose_name=_("source SHA-256"),
    )
    provider = models.CharField(max_length=32, blank=True, verbose_name=_("provider"))
    translated_at = models.DateTimeField(default=timezone.now, verbose_name=_("translated at"))
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reviewed by"),
    )
    reviewed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("reviewed at"))

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["model", "object_id", "field", "language"], name="i18n_one_translation_per_field_language"
            )
        ]
        indexes = [models.Index(fields=["status", "id"], name="i18n_translation_queue_idx")]
        verbose_name = _("field translation")
        verbose_name_plural = _("field translations")

    def __str__(self):
        return f"{self.model}#{self.object_id}.{self.field}_{self.language}"


class FieldPolicy(models.Model):
    model = models.CharField(max_length=64, verbose_name=_("model"))
    field = models.CharField(max_length=64, verbose_name=_("field"))
    auto_translate = models.BooleanField(default=False, verbose_name=_("auto translate"))
    review_required = models.BooleanField(default=True, verbose_name=_("review required"))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["model", "field"], name="i18n_one_policy_per_field")]
        verbose_name = _("field policy")
        verbose_name_plural = _("field policies")

    def __str__(self):
        return f"{self.model}.{self.field}"

    def clean(self):
        from i18n.registry import field_get

        field_get(self.model, self.field)  # a policy for a field that is not translatable is refused


class GlossaryTerm(models.Model):
    term_en = models.CharField(max_length=120, unique=True, verbose_name=_("term (English)"))
    term_ar = models.CharField(max_length=120, verbose_name=_("term (Arabic)"))
    protected = models.BooleanField(
        default=False, help_text=_("Never translated: kept as written (brand names)."), verbose_name=_("protected")
    )

    class Meta:
        ordering = ["term_en"]
        verbose_name = _("glossary term")
        verbose_name_plural = _("glossary terms")

    def __str__(self):
        return self.term_en

    def term(self, language: str) -> str:
        return self.term_ar if language == Language.ARABIC else self.term_en
