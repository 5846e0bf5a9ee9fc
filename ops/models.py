"""Provider switches, the last probe of each provider and who rotated which key."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ProviderState(models.Model):
    """Whether a provider (or `campaigns`, the switch for every campaign send) is switched on."""

    name = models.CharField(max_length=40, unique=True, verbose_name=_("name"))
    enabled = models.BooleanField(default=True, verbose_name=_("enabled"))
    reason = models.CharField(max_length=200, verbose_name=_("reason"))
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("changed by")
    )
    changed_at = models.DateTimeField(verbose_name=_("changed at"))

    class Meta:
        verbose_name = _("provider switch")
        verbose_name_plural = _("provider switches")

    def __str__(self) -> str:
        text = _("%(name)s: on") if self.enabled else _("%(name)s: off")
        return text % {"name": self.name}


class ProviderProbe(models.Model):
    """The last probe of one provider (ops.providers_probe, every minute)."""

    name = models.CharField(max_length=40, unique=True, verbose_name=_("name"))
    ok = models.BooleanField(verbose_name=_("OK"))
    code = models.CharField(max_length=64, blank=True, verbose_name=_("code"))
    latency_ms = models.PositiveIntegerField(verbose_name=_("latency (ms)"))
    probed_at = models.DateTimeField(verbose_name=_("probed at"))

    class Meta:
        verbose_name = _("provider probe")
        verbose_name_plural = _("provider probes")

    def __str__(self) -> str:
        return _("%(name)s: OK") % {"name": self.name} if self.ok else f"{self.name}: {self.code}"


class SecretRotation(models.Model):
    """A rotation asked for through the API: who, which key, which version (the keyring holds the rest)."""

    name = models.CharField(max_length=40, verbose_name=_("name"))
    version = models.PositiveIntegerField(verbose_name=_("version"))
    key_id = models.CharField(max_length=32, verbose_name=_("key ID"))
    fingerprint = models.CharField(max_length=16, verbose_name=_("fingerprint"))
    rotated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("rotated by")
    )
    rotated_at = models.DateTimeField(verbose_name=_("rotated at"))

    class Meta:
        verbose_name = _("secret rotation")
        verbose_name_plural = _("secret rotations")

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"
