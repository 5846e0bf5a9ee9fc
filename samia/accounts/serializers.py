from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from samia.accounts.models import PROFILE_FIELDS, User
from samia.accounts.zodiac import Sign
from samia.serializers import BlankAsNullChoiceField


class TokenRequestSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=256, trim_whitespace=False, style={"input_type": "password"})
    otp = serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        help_text="Staff, while two-factor authentication is required: the current code from their "
        "authenticator app, or one of their recovery codes.",
    )


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class RefreshRequestSerializer(serializers.Serializer):
    refresh = serializers.CharField(max_length=2048)


class AccessTokenSerializer(serializers.Serializer):
    access = serializers.CharField()


class ProfileSerializer(serializers.ModelSerializer):
    zodiac_sign = BlankAsNullChoiceField(choices=Sign.choices, help_text="null until date_of_birth is set")

    class Meta:
        model = User
        fields = ["id", "email", "role", *PROFILE_FIELDS, "zodiac_sign", "created_at"]
        read_only_fields = ["id", "email", "role", "zodiac_sign", "created_at"]

    def validate(self, attrs):
        # Run the model's field validators (E.164, ISO country, IANA zone) on what changes.
        for name, value in attrs.items():
            field = User._meta.get_field(name)
            try:
                field.run_validators(value)
            except DjangoValidationError as error:
                raise serializers.ValidationError({name: error.messages}) from None
        return attrs


class ProfileChangeSerializer(ProfileSerializer):
    """PATCH /me: a JSON object naming any of the writable profile fields, and only those."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, partial=True, **kwargs)

    def run_validation(self, data=serializers.empty):
        if not isinstance(data, dict):
            raise serializers.ValidationError({"non_field_errors": ["Send a JSON object."]})
        fixed = set(data) - set(self.Meta.fields) | (set(data) & set(self.Meta.read_only_fields))
        if fixed:
            raise serializers.ValidationError({name: ["This field cannot be changed here."] for name in sorted(fixed)})
        return super().run_validation(data)
