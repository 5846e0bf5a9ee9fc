"""Versions of the keys and credentials the app holds, encrypted under SECRETS_MASTER_KEYS."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class SecretVersion(models.Model):
    """One version of a named secret; `samia_app` has no privilege on this table (policies.py)."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")  # signs and verifies
        PREVIOUS = "previous", _("Previous")  # verifies only, until it retires
        RETIRED = "retired", _("Retired")  # verifies nothing; only audit_signing keeps its ciphertext

    name = models.CharField(max_length=40, verbose_name=_("name"))
    version = models.PositiveIntegerField(verbose_name=_("version"))
    key_id = models.CharField(max_length=32, verbose_name=_("key ID"))
    ciphertext = models.TextField(blank=True, verbose_name=_("ciphertext"))  # MultiFernet token; empty once retired
    # A keyed hash of the value (16 hex), never the value.
    fingerprint = models.CharField(max_length=16, verbose_name=_("fingerprint"))
    status = models.CharField(max_length=10, choices=Status.choices, verbose_name=_("status"))
    created_at = models.DateTimeField(verbose_name=_("created at"))
    activated_at = models.DateTimeField(null=True, verbose_name=_("activated at"))
    retires_at = models.DateTimeField(null=True, verbose_name=_("retires at"))
    # Imported from an environment value: while active, the environment still decides (keyring.py).
    from_environment = models.BooleanField(default=False, verbose_name=_("from environment"))

    class Meta:
        verbose_name = _("secret version")
        verbose_name_plural = _("secret versions")
        constraints = [
            models.UniqueConstraint(fields=["name", "version"], name="secrets_version_unique"),
            models.UniqueConstraint(fields=["name", "key_id"], name="secrets_key_id_unique"),
            models.UniqueConstraint(
                fields=["name"], condition=models.Q(status="active"), name="secrets_one_active_per_name"
            ),
        ]

    def __str__(self) -> str:
        return _("%(name)s v%(version)s (%(status)s)") % {
            "name": self.name,
            "version": self.version,
            "status": self.get_status_display(),
        }
