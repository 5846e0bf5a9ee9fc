import pytest

from samia.providers import registry
from samia.providers.base import Health, Outcome, Provider, ProviderUnavailable, Result


class Recording(Provider):
    name = "recording"
    sandbox = True

    def __init__(self):
        self.sent = []

    def configured(self):
        return True

    def send(self, **message):
        self.sent.append(message)
        return Result(Outcome.SENT, message_id=f"rec-{len(self.sent)}")

    def probe(self):
        return Health(self.name, True)


class Unconfigured(Recording):
    name = "unconfigured"

    def configured(self):
        return False


class Broken(Recording):
    name = "broken"

    def probe(self):
        raise ConnectionError("down")


@pytest.fixture(autouse=True)
def _fresh_registry():
    registry.get.cache_clear()
    yield
    registry.get.cache_clear()


def test_it_serves_the_configured_adapter(settings):
    settings.PROVIDERS = {"recording": f"{__name__}.Recording"}

    provider = registry.get("recording")
    result = provider.send(to="token-1")

    assert (result.ok, result.message_id, provider.sandbox) == (True, "rec-1", True)


def test_an_unknown_provider_is_unavailable_not_faked(settings):
    settings.PROVIDERS = {}

    with pytest.raises(ProviderUnavailable, match="fcm: not configured"):
        registry.get("fcm")
    with pytest.raises(ProviderUnavailable):
        Unconfigured().require()


def test_health_reports_every_provider_without_raising(settings):
    settings.PROVIDERS = {
        "recording": f"{__name__}.Recording",
        "unconfigured": f"{__name__}.Unconfigured",
        "broken": f"{__name__}.Broken",
        "missing": "",
    }

    report = {h.provider: (h.available, h.detail) for h in registry.health()}

    assert report == {
        "recording": (True, ""),
        "unconfigured": (False, "not_configured"),
        "broken": (False, "ConnectionError"),
        "missing": (False, "not_configured"),
    }


@pytest.mark.parametrize("outcome", [o for o in Outcome if o is not Outcome.SENT])
def test_only_sent_is_a_success(outcome):
    assert Result(outcome).ok is False
