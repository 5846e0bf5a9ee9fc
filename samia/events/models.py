from django.db import models
from django.utils.translation import gettext_lazy as _


class EventRaw(models.Model):
    """One server event. The table is partitioned by month of occurred_at (created by migration SQL)."""

    id = models.BigAutoField(primary_key=True, verbose_name=_("ID"))
    occurred_at = models.DateTimeField(verbose_name=_("occurred at"))
    name = models.CharField(max_length=80, verbose_name=_("name"))
    version = models.SmallIntegerField(verbose_name=_("version"))
    actor_id = models.BigIntegerField(null=True, verbose_name=_("actor ID"))
    actor_key = models.CharField(
        max_length=64,
        blank=True,
        help_text=_("Keyed hash for callers without an account."),
        verbose_name=_("actor key"),
    )
    subject_type = models.CharField(max_length=40, blank=True, verbose_name=_("subject type"))
    subject_id = models.BigIntegerField(null=True, verbose_name=_("subject ID"))
    properties = models.JSONField(default=dict, verbose_name=_("properties"))

    class Meta:
        managed = False
        db_table = "events_raw"

    def __str__(self):
        return f"{self.name} v{self.version}"
