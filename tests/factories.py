import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone

from samia.accounts.models import User
from samia.marketplace.models import Call, Horoscope, MediaAsset, Order, Payment, Service

PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"person{n}@example.test")
    role = "client"
    first_name = "Test"
    last_name = factory.Sequence(lambda n: f"Person{n}")
    country = "SA"
    timezone = "Asia/Riyadh"
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        if create and results:
            instance.save(update_fields=["password"])


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service
        django_get_or_create = ("code",)

    code = "tarot"
    name = "Tarot"
    base_price = Decimal("25.00")


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    client = factory.SubFactory(UserFactory)
    service = factory.SubFactory(ServiceFactory)
    question = "What does the week hold?"
    status = "new"


class MediaAssetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MediaAsset

    owner = factory.SubFactory(UserFactory)
    kind = "audio"
    storage_key = factory.Sequence(lambda n: f"media/test-{n}")
    content_type = "audio/x-wav"
    bytes = 1024
    sha256 = "0" * 64


class CallFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Call

    order = factory.SubFactory(OrderFactory)
    client = factory.SelfAttribute("order.client")
    reader = factory.SubFactory(UserFactory, role="reader")
    scheduled_at = factory.LazyFunction(timezone.now)


class PaymentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Payment

    order = factory.SubFactory(OrderFactory)
    provider = "stripe"
    country = "SA"
    amount = Decimal("25.00")
    currency = "USD"
    attempt = 1


class HoroscopeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Horoscope

    sign = "aries"
    date = factory.LazyFunction(lambda: timezone.now().date())
    text_en = "A good day."
    text_ar = "يوم جيد."
    approval_status = "approved"


def days_ago(days: int) -> dt.date:
    return timezone.now().date() - dt.timedelta(days=days)
