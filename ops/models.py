"""Provider switches, the last probe of each provider and who rotated which key."""

from django.conf import settings
from django.db import models


class ProviderState(models.Model):
    """Whether a provider (or `campaigns`, the switch for every campaign send) is switched on."""

    name = models.CharField(max_length=40, unique=True)
    enabled = models.BooleanField(default=True)
    reason = models.CharField(max_length=200)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    changed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name}: {'on' if self.enabled else 'off'}"


class ProviderProbe(models.Model):
    """The last probe of one provider (ops.providers_probe, every minute)."""

    name = models.CharField(max_length=40, unique=True)
    ok = models.BooleanField()
    code = models.CharField(max_length=64, blank=True)
    latency_ms = models.PositiveIntegerField()
    probed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name}: {'ok' if self.ok else self.code}"


class SecretRotation(models.Model):
    """A rotation asked for through the API: who, which key, which version (the keyring holds the rest)."""

    name = models.CharField(max_length=40)
    version = models.PositiveIntegerField()
    key_id = models.CharField(max_length=32)
    fingerprint = models.CharField(max_length=16)
    rotated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    rotated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"
