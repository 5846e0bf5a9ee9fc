"""What readiness checks: PostgreSQL, Redis, migrations and next month's events partition."""

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor

from samia.redis import get_redis


def _database() -> str:
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT 1")
    return "ok"


def _redis() -> str:
    get_redis().ping()
    return "ok"


def _migrations() -> str:
    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return "ok" if not pending else f"{len(pending)} unapplied"


def _event_partitions() -> str:
    from samia.events.services import next_month_partition_missing

    missing = next_month_partition_missing()
    return "ok" if missing is None else f"missing {missing}"


CHECKS = {"database": _database, "redis": _redis, "migrations": _migrations, "event_partitions": _event_partitions}


def readiness() -> dict[str, str]:
    """Run every check; name each "ok" or why it is not."""
    results = {}
    for name, check in CHECKS.items():
        try:
            results[name] = check()
        except Exception as error:  # a probe reports failures, it does not raise them
            results[name] = f"unavailable ({type(error).__name__})"
    return results
