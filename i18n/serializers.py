from rest_framework import serializers

from i18n.models import FieldTranslation
from i18n.selectors import STATUS_MODELS
from samia.accounts.models import Language

MAX_IDS = 200


class TranslateSerializer(serializers.Serializer):
    model = serializers.CharField(max_length=64, help_text="app_label.Model, e.g. marketplace.Horoscope")
    field = serializers.CharField(max_length=64, help_text="e.g. text")
    ids = serializers.ListField(child=serializers.IntegerField(min_value=1), min_length=1, max_length=MAX_IDS)
    target = serializers.ChoiceField(choices=Language.choices)
    force = serializers.BooleanField(
        default=False, help_text="Also overwrite reviewed, approved and staff-written texts."
    )


class ReviewSerializer(serializers.Serializer):
    ids = serializers.ListField(child=serializers.IntegerField(min_value=1), min_length=1, max_length=MAX_IDS)
    status = serializers.ChoiceField(choices=[FieldTranslation.Status.REVIEWED, FieldTranslation.Status.APPROVED])


class StatusQuerySerializer(serializers.Serializer):
    model = serializers.ChoiceField(choices=STATUS_MODELS, required=False)


class ItemResultSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    result = serializers.ChoiceField(choices=["written", "skipped", "rejected"])
    code = serializers.CharField(
        help_text="written: translated, glossary_miss (kept, status auto), reviewed, approved; skipped: reviewed, "
        "approved, auto, written_by_staff; rejected: not_found, source_empty, placeholder_mismatch, too_long, stale"
    )


class CountsSerializer(serializers.Serializer):
    written = serializers.IntegerField()
    skipped = serializers.IntegerField()
    rejected = serializers.IntegerField()


class TranslateResultSerializer(serializers.Serializer):
    model = serializers.CharField()
    field = serializers.CharField()
    target = serializers.CharField()
    counts = CountsSerializer()
    results = ItemResultSerializer(many=True)


class ReviewResultSerializer(serializers.Serializer):
    status = serializers.CharField()
    counts = CountsSerializer()
    results = ItemResultSerializer(many=True)


class FieldStatusSerializer(serializers.Serializer):
    model = serializers.CharField()
    field = serializers.CharField()
    language = serializers.CharField()
    source = serializers.BooleanField(help_text="This language is the field's source language.")
    total = serializers.IntegerField()
    missing = serializers.IntegerField()
    auto = serializers.IntegerField(help_text="Machine-translated, not reviewed yet.")
    reviewed = serializers.IntegerField()
    approved = serializers.IntegerField()
    stale = serializers.IntegerField(help_text="Translated from a source text that has changed since.")
    parity = serializers.FloatField(help_text="Percent of objects with a text in this language.")


class ParitySerializer(serializers.Serializer):
    language = serializers.CharField()
    total = serializers.IntegerField()
    missing = serializers.IntegerField()
    parity = serializers.FloatField()


class CampaignParitySerializer(ParitySerializer):
    model = serializers.CharField()


class StatusSerializer(serializers.Serializer):
    fields = FieldStatusSerializer(many=True)
    campaigns = CampaignParitySerializer(many=True, required=False, help_text="Templates per language (checked only).")
    catalog = ParitySerializer(
        many=True, required=False, help_text="gettext msgids without a string in the language (API and back office)."
    )
