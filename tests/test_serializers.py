import pytest
from django.utils import timezone
from rest_framework import serializers

from samia.marketplace import serializers as s

pytestmark = pytest.mark.django_db

FLAT = [
    (s.OrderSerializer, "orders"),
    (s.CallSerializer, "calls"),
    (s.PaymentSerializer, "payments"),
    (s.HoroscopeSerializer, "horoscopes"),
]


@pytest.mark.parametrize(("serializer_class", "kind"), FLAT)
def test_the_flat_serializers_render_exactly_what_drf_renders(world, serializer_class, kind):
    from samia.marketplace.models import Call, Horoscope, Order, Payment

    model = {"orders": Order, "calls": Call, "payments": Payment, "horoscopes": Horoscope}[kind]
    # some timestamps set, some not, with microseconds
    Order.objects.update(assigned_at=timezone.now(), rejection_reason="Needs more detail.")
    Call.objects.update(answered_at=timezone.now())
    rows = list(model.objects.all())
    assert rows

    as_dicts = {} if kind == "horoscopes" else {r["id"]: r for r in serializer_class.rows(model.objects.all())}
    for row in rows:
        flat = serializer_class(row).data
        reference = serializers.ModelSerializer.to_representation(serializer_class(), row)
        assert dict(flat) == dict(reference)
        if as_dicts:
            assert dict(serializer_class(as_dicts[row.pk]).data) == dict(reference)
