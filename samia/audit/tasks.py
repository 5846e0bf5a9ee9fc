"""Audit periodic tasks: the chain sweep, checkpoints and their witness, the monthly signed export and the
daily retention purge."""

from __future__ import annotations

from pathlib import Path

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from samia.audit import checkpoints, services


def export_dir() -> Path:
    """Where the monthly job writes exports: AUDIT_EXPORT_DIR/<YYYY-MM>/."""
    return Path(settings.AUDIT_EXPORT_DIR)


def previous_month(today=None) -> str:
    """Return the month before `today`'s (UTC) as YYYY-MM."""
    today = today or timezone.now().date()
    first = today.replace(day=1)
    return f"{first.year - (first.month == 1)}-{(first.month - 2) % 12 + 1:02d}"


@shared_task(name="samia.audit.chain_pending")
def chain_pending() -> dict:
    """Chain the committed entries whose commit found the chain lock taken (normally the next commit does)."""
    return {"chained": services.chain_pending()}


@shared_task(name="samia.audit.checkpoint_head")
def checkpoint_head() -> dict:
    """Sign the chain head when it moved and AUDIT_CHECKPOINT_MINUTES passed; copy unwitnessed checkpoints to
    the witness (a failed write raises and is retried by the next run)."""
    checkpoint = checkpoints.checkpoint_head()
    return {"signed": checkpoint.serial if checkpoint else None, "witnessed": checkpoints.witness_pending()}


@shared_task(name="samia.audit.export_previous_month")
def export_previous_month() -> dict:
    """Export and sign the previous month (idempotent: a second run writes the same files)."""
    month = previous_month()
    export = services.export_month(month=month, out_dir=export_dir() / month)
    return {"month": month, "manifest_sha256": export.manifest_sha256, "last_seq": export.last_seq}


@shared_task(name="samia.audit.retention_purge")
def retention_purge() -> dict:
    """Purge audit rows older than AUDIT_RETENTION_DAYS that a signed export covers."""
    anchor = services.retention_purge(before=services.retention_cutoff())
    return {"anchor_seq": anchor.seq if anchor else None}
