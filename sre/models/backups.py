from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Backup(models.Model):
    """One pg_dump -Fc snapshot: where it is, its sha256 and the row count of every table."""

    class Kind(models.TextChoices):
        DAILY = "daily", _("Daily")
        MONTHLY = "monthly", _("Monthly")

    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.DAILY, verbose_name=_("kind"))
    file_name = models.CharField(max_length=200, unique=True, verbose_name=_("file name"))
    sha256 = models.CharField(max_length=64, verbose_name=_("SHA-256"))
    size_bytes = models.BigIntegerField(verbose_name=_("size (bytes)"))
    row_counts = models.JSONField(default=dict, verbose_name=_("row counts"))
    server_version = models.CharField(max_length=40, verbose_name=_("server version"))
    started_at = models.DateTimeField(verbose_name=_("started at"))
    finished_at = models.DateTimeField(default=timezone.now, verbose_name=_("finished at"))
    removed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("removed at"))

    class Meta:
        verbose_name = _("backup")
        verbose_name_plural = _("backups")
        ordering = ["-finished_at"]

    def __str__(self):
        return self.file_name


class RestoreDrill(models.Model):
    """A restore of one backup into a scratch database, checked and dropped."""

    class Result(models.TextChoices):
        PASSED = "passed", _("Passed")
        FAILED = "failed", _("Failed")

    backup = models.ForeignKey(
        Backup, on_delete=models.SET_NULL, null=True, related_name="drills", verbose_name=_("backup")
    )
    started_at = models.DateTimeField(default=timezone.now, verbose_name=_("started at"))
    duration_seconds = models.FloatField(verbose_name=_("duration seconds"))
    result = models.CharField(max_length=8, choices=Result.choices, verbose_name=_("result"))
    # Codes and counts only: the tables whose counts differ, the checks that failed.
    details = models.JSONField(default=dict, verbose_name=_("details"))

    class Meta:
        verbose_name = _("restore drill")
        verbose_name_plural = _("restore drills")
        ordering = ["-started_at"]

    def __str__(self):
        return _("drill %(time)s %(result)s") % {
            "time": f"{self.started_at:%Y-%m-%d %H:%M}",
            "result": self.get_result_display(),
        }
