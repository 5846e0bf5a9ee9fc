"""Request and response shapes of the notifications API (no addresses, tokens or bodies leak out)."""

from rest_framework import serializers

from notifications.models import Audience, Campaign, Channel, DeviceToken, LiftReason, Purpose, Send, Suppression
from samia.accounts.models import Language, Role
from samia.accounts.validators import validate_e164


class ConsentChangeSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(choices=Channel.choices)
    purpose = serializers.ChoiceField(choices=Purpose.choices)


class ConsentStateSerializer(serializers.Serializer):
    channel = serializers.CharField()
    purpose = serializers.CharField()
    granted = serializers.BooleanField()
    source = serializers.CharField(help_text="api, sms_keyword, admin, import, or default (no record yet)")
    recorded_at = serializers.DateTimeField(allow_null=True)


class MySendSerializer(serializers.ModelSerializer):
    class Meta:
        model = Send
        fields = (
            "id",
            "kind",
            "channel",
            "purpose",
            "state",
            "sandbox",
            "due_at",
            "sent_at",
            "delivered_at",
            "opened_at",
            "clicked_at",
            "created_at",
        )


class MySendsQuerySerializer(serializers.Serializer):
    limit = serializers.IntegerField(min_value=1, max_value=100, default=20)


class DeviceRegisterSerializer(serializers.Serializer):
    platform = serializers.ChoiceField(choices=DeviceToken.Platform.choices)
    token = serializers.CharField(max_length=4096, trim_whitespace=True)


class DeviceSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeviceToken
        fields = ("id", "platform", "active", "registered_at", "deactivated_at", "deactivated_reason")


class AudienceSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120, required=False, allow_blank=True)
    roles = serializers.ListField(child=serializers.ChoiceField(choices=Role.choices), required=False, default=list)
    countries = serializers.ListField(
        child=serializers.RegexField(r"^[A-Z]{2}$"), required=False, default=list, max_length=250
    )
    languages = serializers.ListField(
        child=serializers.ChoiceField(choices=Language.choices), required=False, default=list
    )
    segment = serializers.ChoiceField(choices=Audience.Segment.choices, default=Audience.Segment.EVERYONE)


class CampaignCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    purpose = serializers.ChoiceField(choices=[Purpose.MARKETING, Purpose.ZODIAC], default=Purpose.MARKETING)
    channel = serializers.ChoiceField(choices=Channel.choices)
    audience = AudienceSerializer()
    templates = serializers.DictField(
        child=serializers.DictField(),
        help_text='{"en": {"title", "body"}, "ar": {...}}; WhatsApp: content_sid + variables',
    )
    link_url = serializers.URLField(required=False, allow_blank=True, default="", max_length=200)
    send_on = serializers.DateField(help_text="The local date each recipient gets it, in their own timezone.")
    local_time = serializers.TimeField(help_text="The local time (HH:MM) in each recipient's timezone.")
    window_hours = serializers.IntegerField(min_value=1, max_value=24, default=6)


class CampaignSerializer(serializers.ModelSerializer):
    audience = serializers.SerializerMethodField()

    class Meta:
        model = Campaign
        fields = (
            "id",
            "name",
            "purpose",
            "channel",
            "audience",
            "templates",
            "link_url",
            "send_on",
            "local_time",
            "window_hours",
            "status",
            "planned_count",
            "created_at",
            "scheduled_at",
        )

    def get_audience(self, campaign) -> dict:
        audience = campaign.audience
        return {
            "name": audience.name,
            "roles": audience.roles,
            "countries": audience.countries,
            "languages": audience.languages,
            "segment": audience.segment,
        }


class ScheduleResultSerializer(serializers.Serializer):
    campaign = CampaignSerializer()
    created = serializers.IntegerField(
        allow_null=True, help_text="Sends planned by this call (0 when scheduled before); null when queued."
    )
    queued = serializers.BooleanField(
        help_text="202: a large audience (NOTIFICATIONS_SCHEDULE_JOB_USERS); the schedule was checked and queued "
        "as a job run as the same admin. The campaign turns `scheduled` when its sends are planned."
    )


class CampaignStatsSerializer(serializers.Serializer):
    planned = serializers.IntegerField()
    pending = serializers.IntegerField()
    deferred = serializers.IntegerField(help_text="Pending because the provider is unavailable.")
    sent = serializers.IntegerField()
    delivered = serializers.IntegerField()
    opened = serializers.IntegerField()
    clicked = serializers.IntegerField()
    bounced = serializers.IntegerField()
    suppressed = serializers.IntegerField()
    opted_out = serializers.IntegerField(help_text="Not sent: consent withdrawn before sending.")
    unsubscribed_after = serializers.IntegerField(help_text="Recipients who opted out after receiving it.")
    opted_out_total = serializers.IntegerField()
    skipped_quiet_hours = serializers.IntegerField()
    expired = serializers.IntegerField()
    cancelled = serializers.IntegerField()
    failed = serializers.IntegerField()
    unknown = serializers.IntegerField()
    sandbox = serializers.IntegerField(help_text="Recorded by the sandbox backend, not really sent.")
    segments_planned = serializers.IntegerField(help_text="SMS segments of every planned send (the cost).")
    segments_sent = serializers.IntegerField(help_text="SMS segments of the sends that went out (or may have).")


class PreviewQuerySerializer(serializers.Serializer):
    language = serializers.ChoiceField(choices=Language.choices, default=Language.ENGLISH)


class SuppressionCreateSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(choices=Channel.choices)
    user_id = serializers.IntegerField(required=False, min_value=1)
    address = serializers.CharField(
        required=False, max_length=4096, help_text="An E.164 number (SMS/WhatsApp) or a device token (push)."
    )
    reason = serializers.ChoiceField(choices=Suppression.Reason.choices, default=Suppression.Reason.MANUAL)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)

    def validate(self, attrs):
        if not attrs.get("user_id") and not attrs.get("address"):
            raise serializers.ValidationError("Name a user_id or an address.")
        address = attrs.get("address", "")
        if address and attrs["channel"] != Channel.PUSH:
            try:
                validate_e164(address)
            except Exception:
                raise serializers.ValidationError({"address": ["An E.164 number, e.g. +447700900123."]}) from None
        return attrs


class SuppressionLiftSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(
        choices=LiftReason.choices,
        required=False,
        allow_blank=True,
        default="",
        help_text="A code (it goes to the audit trail); blank records the suppression's own reason.",
    )


class SuppressionSerializer(serializers.ModelSerializer):
    by_address = serializers.SerializerMethodField()

    class Meta:
        model = Suppression
        fields = ("id", "channel", "user_id", "by_address", "reason", "source", "note", "created_at", "lifted_at")

    def get_by_address(self, suppression) -> bool:
        return bool(suppression.address_hash)


class SuppressionQuerySerializer(serializers.Serializer):
    channel = serializers.ChoiceField(choices=Channel.choices, required=False)
    active = serializers.BooleanField(required=False, allow_null=True, default=None)
    user_id = serializers.IntegerField(required=False, min_value=1)


class NotifySerializer(serializers.Serializer):
    user_id = serializers.IntegerField(min_value=1)
    kind = serializers.RegexField(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$", max_length=40)
    title = serializers.CharField(max_length=120)
    body = serializers.CharField(max_length=1000)
    channels = serializers.ListField(
        child=serializers.ChoiceField(choices=Channel.choices), min_length=1, max_length=3, default=["push"]
    )
    critical = serializers.BooleanField(default=False)


class NotificationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    critical = serializers.BooleanField()
    sends = serializers.ListField(child=serializers.DictField())
