"""Writes: switch providers, store probes, rotate keys on an admin's request, probe a new credential."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from ops.models import ProviderProbe, ProviderState, SecretRotation
from ops.selectors import provider_names
from samia.audit import services as audit
from samia.providers import registry, toggles
from samia.rls.registry import Identity
from samia.secrets import catalog, keyring
from samia.secrets import services as secrets


class ProviderUnknown(ObjectDoesNotExist):
    """No provider (or switch) of that name (404)."""


@transaction.atomic
def provider_toggle(*, name: str, enabled: bool, reason: str, actor: Identity) -> ProviderState:
    """Switch a provider (or `campaigns`) on or off; every process sees it within 5 s."""
    if name not in provider_names():
        raise ProviderUnknown(name)
    if not reason.strip():
        raise ValidationError({"reason": ["Say why."]})
    state, _ = ProviderState.objects.update_or_create(
        name=name,
        defaults={
            "enabled": enabled,
            "reason": reason.strip(),
            "changed_by_id": actor.user_id,
            "changed_at": timezone.now(),
        },
    )
    audit.record(
        action="ops.provider.toggle",
        actor=actor,
        target=("ops.provider", name),
        details={"provider": name, "enabled": enabled},
    )
    transaction.on_commit(lambda: toggles.forget(name))
    toggles.forget(name)  # and now: a read before the commit reloads, after it sees the new row
    return state


def provider_probe(*, name: str, store: bool = True) -> dict:
    """Probe one provider now (outside its circuit); store the result as its last probe."""
    started = time.monotonic()
    health = registry.probe(name)
    found = {
        "ok": health.available,
        "code": "" if health.available else (health.detail or "unavailable")[:64],
        "latency_ms": int((time.monotonic() - started) * 1000),
        "probed_at": timezone.now(),
    }
    if store:
        ProviderProbe.objects.update_or_create(name=name, defaults=found)
    return found


def providers_probe() -> dict[str, bool]:
    """Probe every configured provider (the Beat job, every minute)."""
    return {name: provider_probe(name=name)["ok"] for name in sorted(settings.PROVIDERS)}


@transaction.atomic
def secret_rotate(*, name: str, actor: Identity, reason: str = "") -> SecretRotation:
    """Rotate a generated key for an admin; the keyring commits it (and its audit entry) on its own."""
    details = secrets.secret_rotate(name=name, actor=actor, reason=reason)
    return SecretRotation.objects.create(
        name=name,
        version=details["version"],
        key_id=details["key_id"],
        fingerprint=details["fingerprint"],
        rotated_by_id=actor.user_id,
        rotated_at=timezone.now(),
    )


def credential_probe(name: str, value: bytes) -> str | None:
    """Probe each provider that uses credential `name` with `value`; the first failure's code, or None."""
    if catalog.CREDENTIALS[name].probe:  # not a provider's: S3
        return import_string(catalog.CREDENTIALS[name].probe)(value)
    for provider in catalog.CREDENTIALS[name].providers:
        path = settings.PROVIDERS.get(provider)
        if not path:
            return f"{provider}_not_configured"
        with keyring.candidate(name, value):
            adapter = import_string(path)()  # a fresh one: the cached adapter holds the old credential
            if not adapter.configured():
                return f"{provider}_not_configured"
            try:
                health = adapter.probe_credentials()
            except Exception as error:
                return f"{provider}_{type(error).__name__}"[:64]
        if not health.available:
            return f"{provider}_{health.detail or 'unavailable'}"[:64]
    return None
