"""Which adapter serves which provider name, built from settings (PROVIDERS).

`get()` answers only for a provider that is configured, switched on (ops toggles) and whose
circuit is not open; its adapter comes wrapped so that each send goes through the circuit.
"""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings
from django.utils.module_loading import import_string

from samia.providers import toggles
from samia.providers.base import Health, Provider, ProviderUnavailable, Result
from samia.providers.breaker import Breaker, breaker

__all__ = ["Guarded", "adapter", "breaker", "get", "health"]


# Keyed by the keyring generation too; bounded, so the adapters of older generations are let go.
@lru_cache(maxsize=32)
def _build(path: str, generation: int | None) -> Provider:
    return import_string(path)()


def adapter(name: str) -> Provider:
    """The bare adapter of `name` (probes); raise ProviderUnavailable when none is configured.

    A new one is built when the keyring moved, so a rotated credential is used from then on.
    """
    from samia.secrets import keyring

    path = settings.PROVIDERS.get(name)
    if not path:
        raise ProviderUnavailable(name)
    return _build(path, keyring.loaded_generation())


class Guarded:
    """An adapter whose sends go through its provider's circuit; everything else passes through."""

    def __init__(self, provider: Provider, circuit: Breaker):
        self._provider = provider
        self._circuit = circuit

    def send(self, **message) -> Result:
        return self._circuit.call(self._provider.send, **message)

    async def send_async(self, **message) -> Result:
        return await self._circuit.call_async(self._provider.send_async, **message)

    def __getattr__(self, attribute):
        return getattr(self._provider, attribute)


def get(name: str) -> Provider:
    """Return the adapter for `name`; raise ProviderUnavailable when none is configured ("not configured"),
    it is switched off ("disabled") or its circuit is open ("circuit_open")."""
    provider = adapter(name)
    if not toggles.enabled(name):
        raise ProviderUnavailable(name, "disabled")
    circuit = breaker(name)
    circuit.allow()
    return Guarded(provider, circuit)


# Tests build adapters afresh after changing settings: registry.get.cache_clear().
get.cache_clear = _build.cache_clear


def probe(name: str) -> Health:
    """Probe one provider now, outside its circuit; an unconfigured one reports itself unavailable."""
    try:
        provider = adapter(name)
    except ProviderUnavailable:
        return Health(name, False, "not_configured")
    if not provider.configured():
        return Health(name, False, "not_configured")
    try:
        return provider.probe()
    except Exception as error:  # a probe reports, it does not raise
        return Health(name, False, type(error).__name__)


def health() -> list[Health]:
    """Probe every configured provider; an unconfigured one reports itself unavailable."""
    return [probe(name) for name in sorted(settings.PROVIDERS)]
