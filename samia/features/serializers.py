from rest_framework import serializers

from samia.features.selectors import KNOWN

REASON_HELP = "Why, as a short code (launch, incident-1234): it goes into the audit trail, which holds codes only."


class FeatureSerializer(serializers.Serializer):
    name = serializers.CharField()
    enabled = serializers.BooleanField(source="active")
    modified = serializers.DateTimeField()


class FeatureSetSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, help_text=f"One of {', '.join(KNOWN)}.")
    enabled = serializers.BooleanField()
    reason = serializers.RegexField(
        r"^[A-Za-z0-9_.:\-]{1,64}$",
        help_text=REASON_HELP,
        error_messages={"invalid": "Give the reason as a short code: letters, digits and _.:- (at most 64)."},
    )
