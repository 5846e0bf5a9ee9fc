from django.db import models


class EventRaw(models.Model):
    """One server event. The table is partitioned by month of occurred_at (created by migration SQL)."""

    id = models.BigAutoField(primary_key=True)
    occurred_at = models.DateTimeField()
    name = models.CharField(max_length=80)
    version = models.SmallIntegerField()
    actor_id = models.BigIntegerField(null=True)
    actor_key = models.CharField(max_length=64, blank=True, help_text="Keyed hash for callers without an account.")
    subject_type = models.CharField(max_length=40, blank=True)
    subject_id = models.BigIntegerField(null=True)
    properties = models.JSONField(default=dict)

    class Meta:
        managed = False
        db_table = "events_raw"

    def __str__(self):
        return f"{self.name} v{self.version}"
