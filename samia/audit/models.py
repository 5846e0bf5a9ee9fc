from django.db import models
from django.db.models.fields.json import KeyTextTransform, KeyTransform
from django.db.models.functions import Cast
from django.utils.translation import gettext_lazy as _

# Every column below that repeats a payload field is GENERATED ALWAYS AS (...) STORED from the
# payload: Postgres computes it, nobody can write it (not even a superuser with the triggers off),
# so it cannot disagree with the payload and verifying the chain needs only hashes and links.
_PAYLOAD = Cast("payload", models.JSONField())
_CHAINED = models.Q(seq__isnull=False)


def _text(key):
    return KeyTextTransform(key, _PAYLOAD)


def _generated(expression, output_field, **options):
    return models.GeneratedField(expression=expression, output_field=output_field, db_persist=True, **options)


class PayloadTime(models.Func):
    """The payload's occurred_at ('YYYY-MM-DDTHH:MM:SS.ffffffZ', as record() writes it) as a timestamptz,
    through samia.audit_utc_time(), an IMMUTABLE function for that one fixed format (migration 0008)."""

    function = "samia.audit_utc_time"
    output_field = models.DateTimeField()


class AuditEntry(models.Model):
    """One line of the append-only, hash-chained audit trail.

    The request writes the row with its canonical payload; Postgres chains it at commit
    (seq, prev_hash, row_hash) under a lock held only while the transaction commits, and derives
    every other column from the payload.
    """

    seq = models.BigIntegerField(null=True, editable=False, verbose_name=_("sequence"))
    occurred_at = _generated(PayloadTime(_text("occurred_at")), models.DateTimeField(), verbose_name=_("occurred at"))
    actor_id = _generated(
        Cast(_text("actor_id"), models.BigIntegerField()),
        models.BigIntegerField(),
        null=True,
        verbose_name=_("actor ID"),
    )
    actor_role = _generated(_text("actor_role"), models.CharField(max_length=40), verbose_name=_("actor role"))
    action = _generated(_text("action"), models.CharField(max_length=80), verbose_name=_("action"))
    family = _generated(_text("family"), models.CharField(max_length=40), verbose_name=_("family"))
    target_type = _generated(_text("target_type"), models.CharField(max_length=40), verbose_name=_("target type"))
    target_id = _generated(_text("target_id"), models.CharField(max_length=64), verbose_name=_("target ID"))
    outcome = _generated(_text("outcome"), models.CharField(max_length=16), verbose_name=_("outcome"))
    request_id = _generated(_text("request_id"), models.CharField(max_length=64), verbose_name=_("request ID"))
    details = _generated(KeyTransform("details", _PAYLOAD), models.JSONField(), verbose_name=_("details"))
    payload = models.TextField(editable=False, verbose_name=_("payload"))
    # NULL until the commit-time trigger chains the row.
    prev_hash = models.CharField(max_length=64, null=True, editable=False, verbose_name=_("previous hash"))  # noqa: DJ001
    row_hash = models.CharField(max_length=64, null=True, editable=False, verbose_name=_("row hash"))  # noqa: DJ001

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        # Every row is written twice: inserted without a place, then chained (migration 0009). The
        # indexes cover chained rows only, so the first version adds no entry to them; whatever reads
        # the trail reads chained rows (seq IS NOT NULL, or a comparison on seq, which implies it).
        constraints = [models.UniqueConstraint(fields=["seq"], condition=_CHAINED, name="audit_seq_key")]
        indexes = [
            models.Index(fields=["action", "seq"], condition=_CHAINED, name="audit_action_seq_idx"),
            models.Index(fields=["family", "seq"], condition=_CHAINED, name="audit_family_seq_idx"),
            models.Index(fields=["actor_id", "seq"], condition=_CHAINED, name="audit_actor_seq_idx"),
            models.Index(fields=["target_type", "target_id", "seq"], condition=_CHAINED, name="audit_target_seq_idx"),
            models.Index(fields=["occurred_at"], condition=_CHAINED, name="audit_occurred_idx"),
        ]

    def __str__(self):
        return f"#{self.seq} {self.action}"


class AuditCheckpoint(models.Model):
    """A signed statement of the chain head: seq, row_hash and count at a moment.

    Checkpoints form a chain of their own: `serial` counts them (1, 2, ...) and `previous_sha256` is
    the sha256 of the previous checkpoint's statement; both are signed. Append-only (migration 0014):
    the only change ever made is `witnessed_at`, once the checkpoint is in the write-once witness.
    """

    serial = models.BigIntegerField(unique=True, verbose_name=_("serial"))
    previous_sha256 = models.CharField(max_length=64, blank=True, verbose_name=_("previous SHA-256"))
    seq = models.BigIntegerField(verbose_name=_("sequence"))
    row_hash = models.CharField(max_length=64, verbose_name=_("row hash"))
    count = models.BigIntegerField(verbose_name=_("count"))
    signed_at = models.DateTimeField(verbose_name=_("signed at"))
    key_id = models.CharField(max_length=16, verbose_name=_("key ID"))
    statement = models.TextField(help_text=_("The canonical JSON that was signed."), verbose_name=_("statement"))
    signature = models.TextField(help_text=_("minisign signature file of the statement."), verbose_name=_("signature"))
    signed_by_id = models.BigIntegerField(null=True, blank=True, verbose_name=_("signed by ID"))
    witnessed_at = models.DateTimeField(
        null=True, blank=True, help_text=_("When the witness stored it; NULL: not yet."), verbose_name=_("witnessed at")
    )

    class Meta:
        verbose_name = _("audit checkpoint")
        verbose_name_plural = _("audit checkpoints")
        indexes = [models.Index(fields=["-seq"], name="audit_checkpoint_seq_idx")]

    def __str__(self):
        return _("Checkpoint %(serial)s at #%(seq)s") % {"serial": self.serial, "seq": self.seq}


class AuditAnchor(models.Model):
    """What remains of a purged range: the last purged row's seq and hash, so the chain still verifies."""

    seq = models.BigIntegerField(unique=True, verbose_name=_("sequence"))
    row_hash = models.CharField(max_length=64, verbose_name=_("row hash"))
    purged_at = models.DateTimeField(verbose_name=_("purged at"))
    manifest_sha256 = models.CharField(
        max_length=64, help_text=_("The signed export that covers the purged rows."), verbose_name=_("manifest SHA-256")
    )

    def __str__(self):
        return _("anchor at #%(seq)s") % {"seq": self.seq}


class AuditExport(models.Model):
    """A signed monthly export: which seq range it covers and the sha256 of its manifest."""

    month = models.CharField(max_length=7, unique=True, help_text=_("YYYY-MM"), verbose_name=_("month"))
    first_seq = models.BigIntegerField(verbose_name=_("first sequence"))
    last_seq = models.BigIntegerField(verbose_name=_("last sequence"))
    row_count = models.BigIntegerField(verbose_name=_("row count"))
    last_row_hash = models.CharField(max_length=64, verbose_name=_("last row hash"))
    manifest_sha256 = models.CharField(max_length=64, verbose_name=_("manifest SHA-256"))
    key_id = models.CharField(max_length=16, verbose_name=_("key ID"))
    created_at = models.DateTimeField(verbose_name=_("created at"))

    class Meta:
        verbose_name = _("audit export")
        verbose_name_plural = _("audit exports")
        indexes = [models.Index(fields=["last_seq"], name="audit_export_last_seq_idx")]

    def __str__(self):
        return _("export %(month)s (#%(first)s..#%(last)s)") % {
            "month": self.month,
            "first": self.first_seq,
            "last": self.last_seq,
        }
