import pytest

from i18n.models import FieldPolicy, FieldTranslation, GlossaryTerm
from samia.audit.models import AuditEntry
from samia.events.models import EventRaw
from samia.marketplace.models import Horoscope
from tests.fakes import deepl as fake_deepl

AUTH_KEY = "f63c02c5-f056-4c94-a0b1-000000000001:fx"


@pytest.fixture
def deepl(settings):
    """A fake DeepL server over real HTTP, configured as the translation provider."""
    with fake_deepl.running(AUTH_KEY) as fake:
        settings.DEEPL_AUTH_KEY = AUTH_KEY
        settings.DEEPL_SERVER_URL = fake.base_url
        yield fake


@pytest.fixture
def auto_translate(db):
    """Auto-translation switched on for every registered field (it is off by default)."""
    from i18n.registry import FIELDS

    for registered in FIELDS:
        FieldPolicy.objects.update_or_create(
            model=registered.model, field=registered.field, defaults={"auto_translate": True}
        )


def state():
    """Everything a refused request must leave as it was."""
    return (
        list(Horoscope.objects.order_by("id").values("id", "text_en", "text_ar", "approval_status")),
        list(FieldTranslation.objects.order_by("id").values()),
        list(FieldPolicy.objects.order_by("id").values()),
        list(GlossaryTerm.objects.order_by("id").values()),
        AuditEntry.objects.filter(family="i18n").count(),
        EventRaw.objects.filter(name__startswith="i18n.").count(),
    )
