import threading

import pytest
from django.db import connections
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from samia.rls.binding import bound
from samia.rls.registry import Identity
from tests import factories


def flushed_by_an_earlier_run(settings_dict: dict) -> bool:
    """Tell whether a kept test database lost what its migrations installed.

    A transactional test ends by emptying every table, the rows that data migrations installed
    (periodic tasks, reason codes, sweep rules) included, so the next run with --reuse-db would
    start without them. The periodic-task table is never emptied otherwise: empty means flushed.
    """
    import psycopg

    try:
        connection = psycopg.connect(
            dbname=settings_dict["TEST"]["NAME"],
            host=settings_dict.get("HOST") or None,
            port=settings_dict.get("PORT") or None,
            user=settings_dict.get("USER") or None,
            password=settings_dict.get("PASSWORD") or None,
            connect_timeout=5,
        )
    except psycopg.OperationalError:
        return False  # no database yet: it is about to be created anyway
    with connection:
        found = connection.execute(
            "SELECT to_regclass('django_celery_beat_periodictask') IS NOT NULL AND NOT EXISTS "
            "(SELECT 1 FROM django_celery_beat_periodictask)"
        ).fetchone()[0]
    return bool(found)


@pytest.fixture(scope="session")
def django_db_createdb(request, django_db_modify_db_settings):
    """Create the test database afresh when asked to, or when an earlier run flushed the kept one."""
    from django.db import connections as all_connections

    return request.config.getvalue("create_db") or flushed_by_an_earlier_run(all_connections["default"].settings_dict)


def token_for(user) -> str:
    refresh = RefreshToken.for_user(user)
    refresh["role"] = user.role
    return str(refresh.access_token)


def api_as(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(user)}")
    return client


@pytest.fixture(autouse=True)
def _clean_redis_limits():
    from django.conf import settings

    from samia.redis import get_redis

    client = get_redis()
    for key in client.scan_iter(f"{settings.CACHES['default']['KEY_PREFIX']}:login-failures:*"):
        client.delete(key)
    yield


@pytest.fixture
def make_user(db):
    return factories.UserFactory


@pytest.fixture
def personas(db):
    """One user per role, plus a second client and a second reader for isolation checks (Alice/Bob/Charlie)."""
    make = factories.UserFactory
    return {
        "client": make(role="client"),
        "other_client": make(role="client"),
        "reader": make(role="reader"),
        "other_reader": make(role="reader"),
        "monitor": make(role="monitor"),
        "admin": make(role="admin"),
        "superadmin": make(role="superadmin"),
    }


@pytest.fixture
def world(personas):
    """Orders, media, calls and payments for two clients and two readers, in several states."""
    p = personas
    f = factories
    orders = {
        "new": f.OrderFactory(client=p["client"]),
        "assigned": f.OrderFactory(client=p["client"], reader=p["reader"], status="assigned"),
        "in_progress": f.OrderFactory(client=p["client"], reader=p["reader"], status="in_progress"),
        "awaiting": f.OrderFactory(client=p["other_client"], reader=p["reader"], status="awaiting_approval"),
        "approved": f.OrderFactory(client=p["other_client"], reader=p["other_reader"], status="approved"),
        "other_new": f.OrderFactory(client=p["other_client"]),
    }
    media = [
        f.MediaAssetFactory(owner=p["client"]),
        f.MediaAssetFactory(owner=p["reader"], order=orders["awaiting"]),
        f.MediaAssetFactory(owner=p["other_reader"], order=orders["approved"]),
        f.MediaAssetFactory(owner=p["admin"]),
    ]
    calls = [
        f.CallFactory(order=orders["assigned"], client=p["client"], reader=p["reader"]),
        f.CallFactory(order=orders["approved"], client=p["other_client"], reader=p["other_reader"], status="dropped"),
    ]
    payments = [
        f.PaymentFactory(order=orders["new"]),
        f.PaymentFactory(order=orders["approved"], status="failed"),
    ]
    payments.append(f.PaymentFactory(order=orders["approved"], attempt=2, fallback_of=payments[1], provider="square"))
    # An Idempotency-Key each client used on POST /orders.
    from samia.marketplace.models import OrderIdempotencyKey

    idempotency_keys = [
        OrderIdempotencyKey.objects.create(client=p["client"], key="k-1", fingerprint="0" * 64, order=orders["new"]),
        OrderIdempotencyKey.objects.create(
            client=p["other_client"], key="k-1", fingerprint="1" * 64, order=orders["other_new"]
        ),
    ]
    horoscopes = [
        f.HoroscopeFactory(sign="aries"),
        f.HoroscopeFactory(sign="leo", approval_status="pending"),
        f.HoroscopeFactory(sign="virgo", date=factories.days_ago(10)),
        f.HoroscopeFactory(sign="libra", date=factories.days_ago(90)),
    ]
    return {
        "personas": p,
        "orders": orders,
        "media": media,
        "calls": calls,
        "payments": payments,
        "horoscopes": horoscopes,
        "idempotency_keys": idempotency_keys,
    }


def rows_as(identity: Identity, sql: str, params=None) -> list:
    """Run raw SQL as the app role under `identity`, the way a request would."""
    from django.db import connection

    with bound(identity), connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchall()


def purge_committed_audit_trail() -> None:
    """Remove committed audit rows the retention way (behind an anchor), so later tests start empty.

    For tests whose writers commit for real (threads, other processes): the trail refuses
    TRUNCATE while it holds rows, so Django's flush could not empty it.
    """
    from django.db import connection, transaction

    from samia.audit.services import chain_pending

    chain_pending()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO audit_auditanchor (seq, row_hash, purged_at, manifest_sha256) "
            "SELECT seq, row_hash, now(), repeat('0', 64) FROM audit_auditentry ORDER BY seq DESC LIMIT 1"
        )
        cursor.execute("SELECT set_config('samia.audit_purging', 'on', true)")
        cursor.execute("DELETE FROM audit_auditentry")
        cursor.execute("DELETE FROM audit_auditanchor")


def in_own_connection(work):
    """Run `work` on a thread of its own: its own connection, real commits outside the test's transaction."""
    failures = []

    def run():
        try:
            work()
        except Exception as error:  # surfaced by the caller
            failures.append(error)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return failures
