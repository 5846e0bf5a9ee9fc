from rest_framework import serializers


class RotateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=40, help_text="jwt, tracking_links, storage_urls or audit_signing")


class RotationSerializer(serializers.Serializer):
    name = serializers.CharField()
    version = serializers.IntegerField()
    key_id = serializers.CharField()
    fingerprint = serializers.CharField(help_text="keyed hash of the new value (16 hex), never the value")
    rotated_at = serializers.DateTimeField()


class SecretVersionSerializer(serializers.Serializer):
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=["rotating", "credential"])
    version = serializers.IntegerField()
    key_id = serializers.CharField()
    fingerprint = serializers.CharField()
    status = serializers.ChoiceField(choices=["active", "previous", "retired"])
    created_at = serializers.DateTimeField()
    activated_at = serializers.DateTimeField(allow_null=True)
    retires_at = serializers.DateTimeField(allow_null=True)


class NeverRotatedSerializer(serializers.Serializer):
    name = serializers.CharField()
    reason = serializers.CharField()


class SecretListSerializer(serializers.Serializer):
    versions = SecretVersionSerializer(many=True)
    never_rotated = NeverRotatedSerializer(many=True)


class ToggleSerializer(serializers.Serializer):
    provider = serializers.CharField(max_length=40, help_text="a provider name, or `campaigns` for every campaign send")
    enabled = serializers.BooleanField()
    reason = serializers.CharField(max_length=200, help_text="why (kept with the switch and shown in health)")


class ProviderStateSerializer(serializers.Serializer):
    provider = serializers.CharField(source="name")
    enabled = serializers.BooleanField()
    reason = serializers.CharField()
    changed_at = serializers.DateTimeField()


class HealthQuerySerializer(serializers.Serializer):
    probe = serializers.BooleanField(required=False, default=False, help_text="1: probe each provider now")


class ProbeSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    code = serializers.CharField()
    latency_ms = serializers.IntegerField()
    probed_at = serializers.DateTimeField()


class ProviderHealthSerializer(serializers.Serializer):
    provider = serializers.CharField()
    configured = serializers.BooleanField()
    enabled = serializers.BooleanField()
    reason = serializers.CharField()
    circuit = serializers.ChoiceField(choices=["closed", "open", "half-open"])
    failures = serializers.IntegerField(help_text="counted failures in a row (the circuit opens at the threshold)")
    last_probe = ProbeSerializer(allow_null=True)
