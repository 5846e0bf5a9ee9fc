from rest_framework import serializers

PLATFORMS = ("ios", "android", "web")


class SessionStartSerializer(serializers.Serializer):
    platform = serializers.ChoiceField(choices=PLATFORMS)
    # A version code such as 3.4.1 or 10.0.0-rc.1: events carry codes, never free text.
    app_version = serializers.RegexField(
        r"^[0-9][0-9A-Za-z._-]{0,31}$",
        required=False,
        default="",
        error_messages={"invalid": "A version code: a digit, then up to 31 letters, digits or ._- characters."},
    )


class ListenSerializer(serializers.Serializer):
    percent = serializers.IntegerField(min_value=0, max_value=100)
    seconds = serializers.IntegerField(min_value=0, max_value=24 * 3600, required=False)


class CountedSerializer(serializers.Serializer):
    counted = serializers.BooleanField(help_text="Whether this report was recorded (false: it changed nothing).")
