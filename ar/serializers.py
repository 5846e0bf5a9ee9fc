from rest_framework import serializers

from ar.models import ArAsset, ArLink


class AssetUploadSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ArAsset.Kind.choices)
    file = serializers.FileField(help_text="The asset's bytes; its type and lineage are measured from them.")


class AssetListQuerySerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ArAsset.Kind.choices, required=False)
    order_id = serializers.IntegerField(min_value=1, required=False)
    horoscope_id = serializers.IntegerField(min_value=1, required=False)


class ReaderAssetListQuerySerializer(serializers.Serializer):
    order_id = serializers.IntegerField(min_value=1, required=False, help_text="Only the assets linked to this order.")


class AssetLinkSerializer(serializers.Serializer):
    asset_id = serializers.IntegerField(min_value=1)
    order_id = serializers.IntegerField(min_value=1, required=False)
    horoscope_id = serializers.IntegerField(min_value=1, required=False)

    def validate(self, data):
        if ("order_id" in data) == ("horoscope_id" in data):
            raise serializers.ValidationError({"order_id": ["Give exactly one of order_id and horoscope_id."]})
        return data


class AssetSerializer(serializers.ModelSerializer):
    class Meta:
        model = ArAsset
        fields = [
            "id",
            "kind",
            "content_type",
            "sha256",
            "bytes",
            "duration_ms",
            "frame_count",
            "width",
            "height",
            "created_by",
            "created_at",
            "removed_at",
        ]
        read_only_fields = fields


class ReaderAssetSerializer(serializers.ModelSerializer):
    class Meta:
        model = ArAsset
        fields = ["id", "kind", "content_type", "bytes", "duration_ms", "frame_count", "width", "height"]
        read_only_fields = fields


class LinkSerializer(serializers.ModelSerializer):
    class Meta:
        model = ArLink
        fields = ["id", "asset", "order", "horoscope", "created_by", "created_at"]
        read_only_fields = fields


class SignedUrlSerializer(serializers.Serializer):
    url = serializers.CharField(help_text="Where to GET the file; it stops working at expires_at.")
    expires_at = serializers.DateTimeField()
