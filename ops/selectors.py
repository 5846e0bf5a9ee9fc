"""Reads: provider switches and health, keyring metadata."""

from __future__ import annotations

from django.conf import settings
from django.db import connection

from ops.models import ProviderProbe, ProviderState
from samia.providers import registry, toggles
from samia.secrets import services as secrets


def provider_enabled(name: str) -> bool:
    """Whether `name` is switched on (no row: on). The toggle cache calls this on a miss."""
    # Through the SQL function: a client's request may ask, but may not read the rows (ops/sql.py).
    with connection.cursor() as cursor:
        cursor.execute("SELECT samia.provider_enabled(%s)", [name])
        return cursor.fetchone()[0]


def provider_names() -> list[str]:
    """Every provider that can be switched, and `campaigns`."""
    return sorted({*settings.PROVIDERS, toggles.CAMPAIGNS})


def provider_health(*, live: bool = False) -> list[dict]:
    """Per provider: configured, enabled, circuit, last probe (or a live one), failures counted now."""
    probes = {probe.name: probe for probe in ProviderProbe.objects.all()}
    states = {state.name: state for state in ProviderState.objects.all()}
    answer = []
    for name in sorted(settings.PROVIDERS):
        circuit = registry.breaker(name)
        state = states.get(name)
        if live:
            from ops import services

            last = services.provider_probe(name=name, store=False)
        else:
            probe = probes.get(name)
            last = probe and {
                "ok": probe.ok,
                "code": probe.code,
                "latency_ms": probe.latency_ms,
                "probed_at": probe.probed_at,
            }
        try:
            configured = registry.adapter(name).configured()
        except Exception:
            configured = False
        answer.append(
            {
                "provider": name,
                "configured": configured,
                "enabled": toggles.enabled(name),
                "reason": state.reason if state else "",
                "circuit": circuit.state,
                "failures": circuit.circuit.fail_counter,
                "last_probe": last,
            }
        )
    return answer


def secret_list() -> list[dict]:
    """Keyring metadata (never a value)."""
    return secrets.secret_list()
