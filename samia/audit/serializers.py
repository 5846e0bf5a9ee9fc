from rest_framework import serializers

from samia.audit.models import AuditCheckpoint, AuditEntry
from samia.audit.services import OUTCOMES


class EntryListQuerySerializer(serializers.Serializer):
    actor = serializers.IntegerField(min_value=1, required=False, help_text="actor user id")
    action = serializers.CharField(max_length=80, required=False)
    target_type = serializers.CharField(max_length=40, required=False)
    target_id = serializers.CharField(max_length=64, required=False)
    outcome = serializers.ChoiceField(choices=OUTCOMES, required=False)

    def get_fields(self):
        # `from` and `to` are the query's names; `from` cannot be a class attribute.
        fields = super().get_fields()
        fields["from"] = serializers.DateTimeField(required=False, help_text="occurred at or after (ISO 8601)")
        fields["to"] = serializers.DateTimeField(required=False, help_text="occurred before (ISO 8601)")
        return fields

    def validate(self, attrs):
        if "from" in attrs and "to" in attrs and attrs["from"] >= attrs["to"]:
            raise serializers.ValidationError({"to": ["must be after from"]})
        return attrs


class EntrySerializer(serializers.ModelSerializer):
    # A generated JSON column: DRF's fallback field would render it as a Python repr string.
    details = serializers.DictField(read_only=True, help_text="ids and codes only, never personal data")
    verifies = serializers.SerializerMethodField(help_text="the row's hash matches its payload and the row before it")

    class Meta:
        model = AuditEntry
        fields = [
            "seq",
            "occurred_at",
            "actor_id",
            "actor_role",
            "action",
            "family",
            "target_type",
            "target_id",
            "outcome",
            "request_id",
            "details",
            "prev_hash",
            "row_hash",
            "verifies",
        ]
        read_only_fields = fields

    def get_verifies(self, entry) -> bool:
        return self.context["verified"][entry.seq]


class CheckpointSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditCheckpoint
        fields = ["id", "seq", "row_hash", "count", "signed_at", "key_id", "statement", "signature", "signed_by_id"]
        read_only_fields = fields


class PublicKeyQuerySerializer(serializers.Serializer):
    key_id = serializers.RegexField(r"^[0-9A-Fa-f]{16}$", required=False, help_text="a key id (16 hex digits)")
