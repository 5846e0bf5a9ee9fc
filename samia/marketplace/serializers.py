from rest_framework import serializers

from samia.accounts.zodiac import Sign
from samia.marketplace.models import Call, Horoscope, Order, Payment, Service
from samia.marketplace.states import OrderStatus
from samia.serializers import FlatModelSerializer


class OrderSerializer(FlatModelSerializer):
    service = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Order
        fields = [
            "id",
            "client_id",
            "reader_id",
            "service",
            "question",
            "is_gold",
            "status",
            "rejection_reason",
            "created_at",
            "assigned_at",
            "started_at",
            "submitted_at",
            "decided_at",
            "delivered_at",
            "cancelled_at",
        ]
        read_only_fields = fields


class OrderCreateSerializer(serializers.Serializer):
    service = serializers.ChoiceField(choices=Service.Code.choices)
    question = serializers.CharField(max_length=2000, min_length=3)
    is_gold = serializers.BooleanField(default=False)


class OrderAssignSerializer(serializers.Serializer):
    reader_id = serializers.IntegerField(min_value=1)


class OrderRejectSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, min_length=3)


class EmptySerializer(serializers.Serializer):
    pass


class OrderListQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=OrderStatus.choices, required=False)


class CallSerializer(FlatModelSerializer):
    class Meta:
        model = Call
        fields = [
            "id",
            "order_id",
            "client_id",
            "reader_id",
            "status",
            "scheduled_at",
            "answered_at",
            "ended_at",
            "end_reason",
            "dropped_by",
        ]
        read_only_fields = fields


class CallListQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Call.Status.choices, required=False)


class PaymentSerializer(FlatModelSerializer):
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, coerce_to_string=True)

    class Meta:
        model = Payment
        fields = [
            "id",
            "order_id",
            "provider",
            "country",
            "amount",
            "currency",
            "status",
            "attempt",
            "fallback_of_id",
            "created_at",
        ]
        read_only_fields = fields


class PaymentListQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Payment.Status.choices, required=False)


class HoroscopeSerializer(FlatModelSerializer):
    class Meta:
        model = Horoscope
        fields = ["id", "sign", "date", "scope", "text", "text_ar", "text_en", "audio_id"]
        read_only_fields = fields


class HoroscopeQuerySerializer(serializers.Serializer):
    sign = serializers.ChoiceField(choices=Sign.choices, required=False)
    date = serializers.DateField(required=False, help_text="Defaults to today in your time zone (UTC when anonymous).")
