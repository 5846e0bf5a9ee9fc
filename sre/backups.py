"""Snapshots: pg_dump -Fc as the owner, its sha256 and the row count of every table, then pruning.

The counts are taken in a REPEATABLE READ transaction whose snapshot pg_dump shares (`--snapshot`),
so they describe exactly the rows in the dump, whatever commits meanwhile.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import psycopg
from django.conf import settings
from django.db import connection
from django.utils import timezone

from sre.models import Backup

TABLES = """
SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%%'
ORDER BY 1
"""


class BackupError(Exception):
    """A snapshot or a restore could not be made; the message names the step (never a password)."""


def conninfo(database: str | None = None) -> dict:
    """The owner's connection parameters (management commands and jobs log in as the owner)."""
    config = connection.settings_dict
    return {
        "dbname": database or config["NAME"],
        "host": config.get("HOST") or "",
        "port": str(config.get("PORT") or ""),
        "user": config.get("USER") or "",
        "password": config.get("PASSWORD") or "",
    }


def client_env(info: dict) -> dict[str, str]:
    """Environment for pg_dump / pg_restore: the password travels in PGPASSWORD, never on the command line."""
    env = {**os.environ, "PGDATABASE": info["dbname"]}
    for key, name in (("host", "PGHOST"), ("port", "PGPORT"), ("user", "PGUSER"), ("password", "PGPASSWORD")):
        if info[key]:
            env[name] = info[key]
    return env


def tool_path(name: str) -> str:
    """The PostgreSQL client program on PATH; BackupError when it is not installed."""
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not installed.")
    return found


def major(version: str) -> int:
    return int(version.split()[0].split(".")[0])


def versions_check(info: dict) -> str:
    """Return the server's version; raise BackupError when pg_dump's major version is not the server's."""
    with psycopg.connect(**{k: v for k, v in info.items() if v}) as conn:
        server = conn.execute("SHOW server_version").fetchone()[0]
    tool = subprocess.run(  # noqa: S603 (fixed argument list, no shell)
        [tool_path("pg_dump"), "--version"], capture_output=True, text=True, check=True
    ).stdout.split()[-3]
    if major(tool) != major(server):
        raise BackupError(f"pg_dump {tool} cannot be trusted with server {server}: the major versions differ.")
    return server


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as dump:
        for block in iter(lambda: dump.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def backup_snapshot(*, now: dt.datetime | None = None) -> Backup:
    """Dump the database with pg_dump -Fc, record its sha256 and row counts, then prune old snapshots."""
    now = now or timezone.now()
    info = conninfo()
    server = versions_check(info)
    directory = Path(settings.SRE_BACKUP_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{info['dbname']}-{now:%Y%m%dT%H%M%SZ}.dump"
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    monthly = not Backup.objects.filter(
        kind=Backup.Kind.MONTHLY, started_at__gte=month_start, removed_at__isnull=True
    ).exists()
    with psycopg.connect(**{k: v for k, v in info.items() if v}, autocommit=False) as snapshot:
        snapshot.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        exported = snapshot.execute("SELECT pg_export_snapshot()").fetchone()[0]
        counts = {
            table: snapshot.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for (table,) in snapshot.execute(TABLES).fetchall()
        }
        dumped = subprocess.run(  # noqa: S603 (fixed argument lists, no shell)
            [tool_path("pg_dump"), "-Fc", f"--snapshot={exported}", "-f", str(path)],
            env=client_env(info),
            capture_output=True,
            text=True,
        )
    if dumped.returncode != 0:
        path.unlink(missing_ok=True)
        raise BackupError(f"pg_dump failed with exit code {dumped.returncode}.")
    backup = Backup.objects.create(
        kind=Backup.Kind.MONTHLY if monthly else Backup.Kind.DAILY,
        file_name=path.name,
        sha256=_sha256(path),
        size_bytes=path.stat().st_size,
        row_counts=counts,
        server_version=server,
        started_at=now,
        finished_at=timezone.now(),
    )
    backups_prune()
    return backup


def backups_prune() -> list[int]:
    """Remove all but the newest SRE_BACKUP_KEEP_DAILY daily and SRE_BACKUP_KEEP_MONTHLY monthly snapshots."""
    removed = []
    for kind, keep in (
        (Backup.Kind.DAILY, settings.SRE_BACKUP_KEEP_DAILY),
        (Backup.Kind.MONTHLY, settings.SRE_BACKUP_KEEP_MONTHLY),
    ):
        for backup in Backup.objects.filter(kind=kind, removed_at__isnull=True).order_by("-started_at")[keep:]:
            (Path(settings.SRE_BACKUP_DIR) / backup.file_name).unlink(missing_ok=True)
            backup.removed_at = timezone.now()
            backup.save(update_fields=["removed_at"])
            removed.append(backup.pk)
    return removed
