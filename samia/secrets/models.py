"""Versions of the keys and credentials the app holds, encrypted under SECRETS_MASTER_KEYS."""

from django.db import models


class SecretVersion(models.Model):
    """One version of a named secret; `samia_app` has no privilege on this table (policies.py)."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"  # signs and verifies
        PREVIOUS = "previous", "Previous"  # verifies only, until it retires
        RETIRED = "retired", "Retired"  # verifies nothing; only audit_signing keeps its ciphertext

    name = models.CharField(max_length=40)
    version = models.PositiveIntegerField()
    key_id = models.CharField(max_length=32)
    ciphertext = models.TextField(blank=True)  # MultiFernet token; empty once retired
    fingerprint = models.CharField(max_length=16)  # keyed hash of the value (16 hex), never the value
    status = models.CharField(max_length=10, choices=Status.choices)
    created_at = models.DateTimeField()
    activated_at = models.DateTimeField(null=True)
    retires_at = models.DateTimeField(null=True)
    # Imported from an environment value: while active, the environment still decides (keyring.py).
    from_environment = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["name", "version"], name="secrets_version_unique"),
            models.UniqueConstraint(fields=["name", "key_id"], name="secrets_key_id_unique"),
            models.UniqueConstraint(
                fields=["name"], condition=models.Q(status="active"), name="secrets_one_active_per_name"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version} ({self.status})"
