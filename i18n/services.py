"""Writes: machine-translate a batch of fields under the glossary, and review what came out."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from i18n.masking import GlossaryCheck, Masker, PlaceholderMismatch
from i18n.models import FieldPolicy, FieldTranslation
from i18n.policies import FIELD_POLICIES, TRANSLATIONS
from i18n.registry import TranslatableField, field_get
from i18n.selectors import glossary_list, sha256, translation_list
from samia import audit, degraded
from samia.events.services import emit
from samia.exceptions import Conflict, Unavailable
from samia.providers import registry as providers
from samia.providers.base import ProviderUnavailable
from samia.providers.deepl import TEXTS_PER_REQUEST
from samia.rls.registry import Identity

PROVIDER = "translation"
Status = FieldTranslation.Status


class ProviderFailed(Unavailable):
    """The translation provider is not configured, out of quota, rate limited or failing (503; nothing written)."""

    def __init__(self, code: str, message, retry_after: int | None = None, **details):
        super().__init__(str(message), **details)
        self.code = code
        self.retry_after = retry_after


@dataclass
class Item:
    id: int
    result: str  # written, skipped or rejected
    code: str
    source: str = ""
    masked: object = None
    glossary_miss: bool = False
    text: str = ""

    def answer(self) -> dict:
        return {"id": self.id, "result": self.result, "code": self.code}


def _policy(identity: Identity, registered: TranslatableField) -> FieldPolicy:
    policies = FIELD_POLICIES.scope(FieldPolicy.objects.all(), identity)
    return policies.filter(model=registered.model, field=registered.field).first() or FieldPolicy(
        model=registered.model, field=registered.field
    )


def _provider():
    try:
        provider = providers.get(PROVIDER)
        provider.require()
    except ProviderUnavailable:
        raise ProviderFailed("provider_unavailable", _("The translation provider is not configured.")) from None
    return provider


@transaction.atomic
def translate_batch(
    *, identity: Identity, model: str, field: str, ids: list[int], target: str, force: bool = False
) -> dict:
    """Machine-translate one field of up to 200 objects into `target`; write empty or auto targets (all with `force`)."""
    registered = field_get(model, field)
    if target == registered.source_lang:
        raise ValidationError({"target": [f"{target} is the source language of {model}.{field}."]})
    if not _policy(identity, registered).auto_translate:
        raise Conflict(_("Auto-translation is off for this field (i18n field policy)."), model=model, field=field)
    degraded.check("translation")  # paused while the translation budget is spent (sre)
    provider = _provider()
    items = _plan(identity, registered, list(dict.fromkeys(ids)), target, force)
    glossary = glossary_list(identity=identity)
    masker = Masker([t.term(registered.source_lang) for t in glossary if t.protected])
    check = GlossaryCheck([(t.term(registered.source_lang), t.term(target)) for t in glossary if not t.protected])
    pending = [item for item in items if item.result == "written"]
    for item in pending:
        item.masked = masker.mask(item.source)
    characters = _translate(provider, pending, registered.source_lang, target)
    limit = registered.model_class._meta.get_field(registered.column(target)).max_length
    for item in pending:
        if item.result != "written":
            continue
        if limit and len(item.text) > limit:
            item.result, item.code = "rejected", "too_long"
            continue
        item.glossary_miss = check.missed(item.source, item.text)
        if item.glossary_miss:
            item.code = "glossary_miss"
    written = [item for item in pending if item.result == "written"]
    _write(identity, registered, target, written)
    counts = {kind: sum(1 for i in items if i.result == kind) for kind in ("written", "skipped", "rejected")}
    audit.record(
        action="i18n.translate.batch",
        actor=identity,
        target=(registered.model.lower(), registered.field),
        details={"model": model, "field": field, "target": target, "provider": PROVIDER, **counts},
    )
    if written:
        emit(
            "i18n.batch_translated",
            1,
            actor=identity,
            properties={"model": model, "field": field, "fields": len(written), "chars": characters},
        )
    return {"model": model, "field": field, "target": target, "counts": counts, "results": [i.answer() for i in items]}


def _plan(identity: Identity, registered: TranslatableField, ids: list[int], target: str, force: bool) -> list[Item]:
    """Decide per id: translate it, skip it (reviewed, approved, written by a person) or reject it."""
    source_column, target_column = registered.column(registered.source_lang), registered.column(target)
    objects = {
        pk: (source, current)
        for pk, source, current in registered.model_class.objects.select_for_update()
        .filter(pk__in=ids)
        .values_list("pk", source_column, target_column)
    }
    states = dict(
        TRANSLATIONS.scope(FieldTranslation.objects.all(), identity)
        .filter(model=registered.model, field=registered.field, language=target, object_id__in=ids)
        .values_list("object_id", "status")
    )
    items = []
    for pk in ids:
        if pk not in objects:
            items.append(Item(pk, "rejected", "not_found"))
            continue
        source, current = objects[pk]
        status = states.get(pk)
        if not (source or "").strip():
            items.append(Item(pk, "rejected", "source_empty"))
        elif current and not force and status != Status.AUTO:
            items.append(Item(pk, "skipped", status or "written_by_staff"))
        else:
            items.append(Item(pk, "written", "translated", source=source))
    return items


def _translate(provider, items: list[Item], source: str, target: str) -> int:
    """Send the masked texts in requests of 50 and restore them; nothing is written when a request fails."""
    characters = 0
    for start in range(0, len(items), TEXTS_PER_REQUEST):
        chunk = items[start : start + TEXTS_PER_REQUEST]
        result = provider.send(texts=[i.masked.text for i in chunk], source=source, target=target)
        if not result.ok:
            raise _failure(result)
        characters += result.characters
        for item, translated in zip(chunk, result.texts, strict=True):
            try:
                item.text = Masker.restore(translated, item.masked)
            except PlaceholderMismatch:
                item.result, item.code = "rejected", "placeholder_mismatch"
    return characters


def _failure(result) -> ProviderFailed:
    if result.code == "quota_exceeded":
        message = _("The translation provider's quota is spent; nothing was written.")
        return ProviderFailed("provider_quota_exceeded", message, result.retry_after_seconds)
    if result.code == "rate_limited":
        message = _("The translation provider is rate limiting; nothing was written.")
        return ProviderFailed("provider_rate_limited", message, result.retry_after_seconds)
    message = _("The translation provider failed; nothing was written.")
    return ProviderFailed("provider_error", message, result.retry_after_seconds, provider_code=result.code)


def _write(identity: Identity, registered: TranslatableField, target: str, items: list[Item]) -> None:
    if not items:
        return
    model, column, now = registered.model_class, registered.column(target), timezone.now()
    objects = [model(pk=item.id, **{column: item.text}) for item in items]
    model.objects.bulk_update(objects, [column])
    rows = [
        FieldTranslation(
            model=registered.model,
            object_id=item.id,
            field=registered.field,
            language=target,
            source_lang=registered.source_lang,
            auto_translated=True,
            status=Status.AUTO,
            glossary_miss=item.glossary_miss,
            source_sha256=sha256(item.source),
            provider=PROVIDER,
            translated_at=now,
            reviewed_by=None,
            reviewed_at=None,
        )
        for item in items
    ]
    FieldTranslation.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["model", "object_id", "field", "language"],
        update_fields=[
            "source_lang",
            "auto_translated",
            "status",
            "glossary_miss",
            "source_sha256",
            "provider",
            "translated_at",
            "reviewed_by",
            "reviewed_at",
        ],
    )


# A review moves a translation forward only: auto -> reviewed -> approved (approving may skip reviewed).
REVIEW_SOURCES = {Status.REVIEWED: (Status.AUTO,), Status.APPROVED: (Status.AUTO, Status.REVIEWED)}


@transaction.atomic
def translation_review(*, identity: Identity, ids: list[int], status: str) -> dict:
    """Mark translations reviewed or approved; a stale one (its source changed since) is refused."""
    if status not in REVIEW_SOURCES:
        raise ValidationError({"status": ["One of reviewed, approved."]})
    ids = list(dict.fromkeys(ids))
    rows = {
        row.pk: row for row in translation_list(identity=identity).filter(pk__in=ids).select_for_update(of=("self",))
    }
    answers, changed = [], []
    for pk in ids:
        row = rows.get(pk)
        if row is None:
            answers.append({"id": pk, "result": "rejected", "code": "not_found"})
        elif row.stale:
            answers.append({"id": pk, "result": "rejected", "code": "stale"})
        elif row.status not in REVIEW_SOURCES[status]:
            answers.append({"id": pk, "result": "skipped", "code": row.status})
        else:
            changed.append(pk)
            answers.append({"id": pk, "result": "written", "code": status})
    if changed:
        TRANSLATIONS.scope(FieldTranslation.objects.all(), identity).filter(pk__in=changed).update(
            status=status, reviewed_by_id=identity.user_id, reviewed_at=timezone.now()
        )
    counts = {kind: sum(1 for a in answers if a["result"] == kind) for kind in ("written", "skipped", "rejected")}
    audit.record(action=f"i18n.review.{status}", actor=identity, details={"ids": changed, **counts})
    return {"status": status, "counts": counts, "results": answers}
