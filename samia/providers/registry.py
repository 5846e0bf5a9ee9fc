"""Which adapter serves which provider name, built from settings (PROVIDERS)."""

from __future__ import annotations

from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

from samia.providers.base import Health, Provider, ProviderUnavailable


@cache
def get(name: str) -> Provider:
    """Return the configured adapter for `name`; raise ProviderUnavailable when none is configured."""
    path = settings.PROVIDERS.get(name)
    if not path:
        raise ProviderUnavailable(name)
    return import_string(path)()


def health() -> list[Health]:
    """Probe every configured provider; an unconfigured one reports itself unavailable."""
    results = []
    for name in sorted(settings.PROVIDERS):
        try:
            provider = get(name)
        except ProviderUnavailable:
            results.append(Health(name, False, "not_configured"))
            continue
        if not provider.configured():
            results.append(Health(name, False, "not_configured"))
            continue
        try:
            results.append(provider.probe())
        except Exception as error:  # a probe reports, it does not raise
            results.append(Health(name, False, type(error).__name__))
    return results
