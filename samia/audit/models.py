from django.db import models


class AuditEntry(models.Model):
    """One line of the append-only, hash-chained audit trail.

    The request writes the row with its canonical payload; Postgres chains it at commit
    (seq, prev_hash, row_hash) under a lock held only while the transaction commits.
    """

    seq = models.BigIntegerField(unique=True, null=True, editable=False)
    occurred_at = models.DateTimeField()
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_role = models.CharField(max_length=40)
    action = models.CharField(max_length=80)
    family = models.CharField(max_length=40, help_text="The action's first segment, e.g. moderation.")
    target_type = models.CharField(max_length=40, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    outcome = models.CharField(max_length=16)
    request_id = models.CharField(max_length=64, blank=True)
    details = models.JSONField(default=dict)
    payload = models.TextField(editable=False)
    # NULL until the commit-time trigger chains the row.
    prev_hash = models.CharField(max_length=64, null=True, editable=False)  # noqa: DJ001
    row_hash = models.CharField(max_length=64, null=True, editable=False)  # noqa: DJ001

    class Meta:
        indexes = [
            models.Index(fields=["action", "seq"], name="audit_action_seq_idx"),
            models.Index(fields=["family", "seq"], name="audit_family_seq_idx"),
            models.Index(fields=["actor_id", "seq"], name="audit_actor_seq_idx"),
            models.Index(fields=["target_type", "target_id", "seq"], name="audit_target_seq_idx"),
            models.Index(fields=["occurred_at"], name="audit_occurred_idx"),
        ]

    def __str__(self):
        return f"#{self.seq} {self.action}"


class AuditCheckpoint(models.Model):
    """A signed statement of the chain head: seq, row_hash and count at a moment."""

    seq = models.BigIntegerField()
    row_hash = models.CharField(max_length=64)
    count = models.BigIntegerField()
    signed_at = models.DateTimeField()
    key_id = models.CharField(max_length=16)
    statement = models.TextField(help_text="The canonical JSON that was signed.")
    signature = models.TextField(help_text="minisign signature file of the statement.")
    signed_by_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["-seq"], name="audit_checkpoint_seq_idx")]

    def __str__(self):
        return f"checkpoint at #{self.seq}"


class AuditAnchor(models.Model):
    """What remains of a purged range: the last purged row's seq and hash, so the chain still verifies."""

    seq = models.BigIntegerField(unique=True)
    row_hash = models.CharField(max_length=64)
    purged_at = models.DateTimeField()
    manifest_sha256 = models.CharField(max_length=64, help_text="The signed export that covers the purged rows.")

    def __str__(self):
        return f"anchor at #{self.seq}"


class AuditExport(models.Model):
    """A signed monthly export: which seq range it covers and the sha256 of its manifest."""

    month = models.CharField(max_length=7, unique=True, help_text="YYYY-MM")
    first_seq = models.BigIntegerField()
    last_seq = models.BigIntegerField()
    row_count = models.BigIntegerField()
    last_row_hash = models.CharField(max_length=64)
    manifest_sha256 = models.CharField(max_length=64)
    key_id = models.CharField(max_length=16)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["last_seq"], name="audit_export_last_seq_idx")]

    def __str__(self):
        return f"export {self.month} (#{self.first_seq}..#{self.last_seq})"
