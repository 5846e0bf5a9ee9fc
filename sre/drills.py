"""Restore drills: restore a snapshot into a scratch database, compare, verify, drop, record.

The checks run in a child process whose DATABASE_URL names the scratch database: `rls_check`
(policies, grants, roles as the declarations say) and the audit chain verification (`sre_chain_verify`).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import psycopg
from django.conf import settings
from django.utils import timezone

from sre.backups import TABLES, BackupError, _sha256, client_env, conninfo, tool_path
from sre.models import Backup, RestoreDrill

CHECK_TIMEOUT_SECONDS = 1800


def _connect(info: dict, database: str, **options):
    return psycopg.connect(**{k: v for k, v in {**info, "dbname": database}.items() if v}, **options)


def _url(info: dict, database: str) -> str:
    auth = quote(info["user"]) + (f":{quote(info['password'])}" if info["password"] else "")
    host = info["host"] or "localhost"
    port = f":{info['port']}" if info["port"] else ""
    return f"postgres://{auth}@{host}{port}/{database}"


def _checks(info: dict, database: str) -> dict[str, str]:
    """Run rls_check and the chain verification against `database`; name each passed or failed."""
    env = {**client_env(info), "DATABASE_URL": _url(info, database), "DATABASE_LOGIN": "owner"}
    results = {}
    for name, command in (("rls_check", ["rls_check"]), ("chain_verify", ["sre_chain_verify"])):
        done = subprocess.run(  # noqa: S603 (fixed argument lists, no shell)
            [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), *command],
            env=env,
            capture_output=True,
            text=True,
            timeout=CHECK_TIMEOUT_SECONDS,
        )
        results[name] = "passed" if done.returncode == 0 else "failed"
    return results


def restore_drill(*, backup: Backup | None = None) -> RestoreDrill:
    """Restore `backup` (the newest by default) into a scratch database, check it, drop it and record the drill."""
    backup = backup or Backup.objects.filter(removed_at__isnull=True).order_by("-started_at").first()
    if backup is None:
        raise BackupError("There is no backup to restore.")
    path = Path(settings.SRE_BACKUP_DIR) / backup.file_name
    if not path.exists() or _sha256(path) != backup.sha256:
        raise BackupError(f"Backup #{backup.pk} is missing or its sha256 differs.")
    info = conninfo()
    scratch = f"{info['dbname']}_drill_{timezone.now():%Y%m%d%H%M%S}"[:63]
    started, started_at = time.monotonic(), timezone.now()
    details: dict = {}
    with _connect(info, "postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{scratch}"')
    try:
        restored = subprocess.run(  # noqa: S603 (fixed argument lists, no shell)
            [tool_path("pg_restore"), "--exit-on-error", "-j", "2", "-d", scratch, str(path)],
            env=client_env(info),
            capture_output=True,
            text=True,
        )
        details["restore"] = "passed" if restored.returncode == 0 else "failed"
        if restored.returncode == 0:
            with _connect(info, scratch) as conn:
                counts = {
                    table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                    for (table,) in conn.execute(TABLES).fetchall()
                }
            details["tables"] = len(counts)
            details["count_mismatches"] = sorted(
                table
                for table in set(counts) | set(backup.row_counts)
                if counts.get(table) != backup.row_counts.get(table)
            )
            details.update(_checks(info, scratch))
    finally:
        with _connect(info, "postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
    passed = (
        details.get("restore") == "passed"
        and not details.get("count_mismatches")
        and details.get("rls_check") == "passed"
        and details.get("chain_verify") == "passed"
    )
    return RestoreDrill.objects.create(
        backup=backup,
        started_at=started_at,
        duration_seconds=round(time.monotonic() - started, 3),
        result=RestoreDrill.Result.PASSED if passed else RestoreDrill.Result.FAILED,
        details=details,
    )
