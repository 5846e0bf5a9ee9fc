import threading

import pytest
from django.db import DatabaseError, connection, connections, transaction

from samia.audit.models import AuditEntry
from samia.audit.services import chain_pending, record
from samia.audit.verify import Row, row_hash, verify
from samia.rls.binding import bound
from samia.rls.registry import Identity
from tests.conftest import in_own_connection, purge_committed_audit_trail


def _chain_now():
    """Fire the commit-time chaining trigger inside the test's transaction."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def _rows():
    return [Row(e.seq, e.prev_hash, e.row_hash, e.payload) for e in AuditEntry.objects.order_by("seq")]


@pytest.mark.django_db
def test_it_chains_entries_at_commit(make_user):
    user = make_user(role="admin")

    record(action="accounts.user.update", actor=user, target=user, details={"field": "role"})
    record(action="auth.login.failed", actor=Identity(None, None), target=("accounts.user", 7))
    assert list(AuditEntry.objects.values_list("seq", flat=True)) == [None, None]  # not chained before commit
    _chain_now()

    rows = AuditEntry.objects.order_by("seq")
    assert [(e.seq, e.action) for e in rows] == [(1, "accounts.user.update"), (2, "auth.login.failed")]
    one, two = rows
    assert one.prev_hash == "0" * 64
    assert one.row_hash == row_hash(one.prev_hash, one.payload)
    assert two.prev_hash == one.row_hash
    assert (two.actor_id, two.actor_role, two.family) == (None, "anonymous", "auth")
    assert verify(_rows()).ok


@pytest.mark.parametrize(
    "details",
    [{"email": "a@b.com"}, {"note": "free text with spaces"}, {"amount": 1.5}, {"Bad Key": 1}],
)
def test_it_refuses_details_that_are_not_ids_codes_or_hashes(details):
    with pytest.raises(ValueError):
        record(action="accounts.user.update", actor="system:test", details=details)


@pytest.mark.parametrize("action", ["Update", "accounts", "accounts user"])
def test_it_refuses_actions_that_are_not_dotted_codes(action):
    with pytest.raises(ValueError):
        record(action=action, actor="system:test")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_auditentry SET payload = replace(payload, 'update', 'delete')",
        "DELETE FROM audit_auditentry",
        "TRUNCATE audit_auditentry",
        "UPDATE audit_auditentry SET seq = seq + 100",
    ],
)
def test_nobody_changes_the_trail_not_even_the_owner(statement):
    record(action="accounts.user.update", actor="system:test")
    _chain_now()

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)


@pytest.mark.django_db
def test_the_app_role_may_append_in_its_own_name_only(make_user):
    user, other = make_user(role="admin"), make_user(role="admin")

    with bound(Identity(user.pk, "admin")):
        record(action="accounts.user.update", actor=Identity(user.pk, "admin"))
    with pytest.raises(DatabaseError), bound(Identity(user.pk, "admin")):
        record(action="accounts.user.update", actor=Identity(other.pk, "admin"))


@pytest.mark.django_db
def test_concurrent_writers_make_one_unbroken_chain():
    writers, per_writer = 8, 25
    barrier = threading.Barrier(writers)
    errors = []

    def write(n):
        try:
            barrier.wait()
            for i in range(per_writer):
                with transaction.atomic():
                    record(action="sre.test.write", actor="system:test", details={"writer": n, "i": i})
        except Exception as error:  # surfaced below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert errors == []
        # A commit that found the chain lock taken left its row to the next commit; the sweep takes the rest.
        assert in_own_connection(chain_pending) == []
        seqs = list(AuditEntry.objects.order_by("seq").values_list("seq", flat=True))
        assert seqs == list(range(1, writers * per_writer + 1))
        report = verify(_rows())
        assert report.ok, report.damage
        assert report.rows == writers * per_writer
    finally:
        assert in_own_connection(purge_committed_audit_trail) == []


@pytest.mark.django_db
def test_a_failed_login_leaves_an_audit_entry_even_though_it_answers_401(make_user):
    from tests.conftest import api_as

    user = make_user(email="alice@example.test")

    response = api_as().post("/auth/token", {"email": "alice@example.test", "password": "nope"}, format="json")

    assert response.status_code == 401
    entry = AuditEntry.objects.get(action="auth.login.failed")
    assert (entry.actor_role, entry.target_type, entry.target_id, entry.outcome, entry.details) == (
        "anonymous",
        "accounts.user",
        str(user.pk),
        "denied",
        {"reason": "bad_password"},
    )
    assert "alice" not in entry.payload


@pytest.mark.django_db
def test_every_order_transition_leaves_an_audit_entry(world):
    from tests.conftest import api_as

    order = world["orders"]["awaiting"]
    monitor = world["personas"]["monitor"]

    api_as(monitor).post(f"/orders/{order.pk}/approve", {}, format="json")

    entry = AuditEntry.objects.get(action="marketplace.order.approve")
    assert (entry.actor_id, entry.actor_role, entry.target_id, entry.details) == (
        monitor.pk,
        "monitor",
        str(order.pk),
        {"from": "awaiting_approval", "to": "approved", "gold": False},
    )


@pytest.mark.django_db
def test_a_refused_transition_leaves_no_entry(world):
    from tests.conftest import api_as

    order = world["orders"]["approved"]
    api_as(world["personas"]["monitor"]).post(f"/orders/{order.pk}/approve", {}, format="json")

    assert not AuditEntry.objects.filter(action="marketplace.order.approve").exists()


def _commit_entry(action, *, isolation=None):
    """Commit one entry for real, on a connection of its own."""

    def work():
        with transaction.atomic(), connection.cursor() as cursor:
            if isolation:
                cursor.execute(f"SET TRANSACTION ISOLATION LEVEL {isolation}")
            record(action=action, actor="system:test")

    assert in_own_connection(work) == []


def _committed_chain():
    """(seq, action) of the committed trail, read on a connection of its own, in id order."""
    found = []

    def work():
        found.extend(AuditEntry.objects.order_by("id").values_list("seq", "action"))

    assert in_own_connection(work) == []
    return found


@pytest.mark.django_db
def test_a_commit_that_finds_the_chain_lock_taken_does_not_wait_and_the_next_one_chains_its_row():
    holding, release = threading.Event(), threading.Event()

    def hold_the_lock():
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext('samia.audit.chain'))")
            holding.set()
            release.wait(10)

    holder = threading.Thread(target=lambda: in_own_connection(hold_the_lock))
    holder.start()
    try:
        try:
            assert holding.wait(10)
            _commit_entry("sre.test.first")  # returns although the lock is held: the row waits
            assert _committed_chain() == [(None, "sre.test.first")]
        finally:
            release.set()
            holder.join()

        _commit_entry("sre.test.second")  # its commit takes the free lock and chains both, oldest first

        assert _committed_chain() == [(1, "sre.test.first"), (2, "sre.test.second")]
        assert verify(_rows()).ok
    finally:
        assert in_own_connection(purge_committed_audit_trail) == []


@pytest.mark.django_db
def test_an_entry_committed_under_repeatable_read_waits_for_the_sweep():
    from samia.audit.tasks import chain_pending as sweep

    try:
        _commit_entry("sre.test.first")
        _commit_entry("sre.test.snapshot", isolation="REPEATABLE READ")
        assert _committed_chain() == [(1, "sre.test.first"), (None, "sre.test.snapshot")]

        results = []
        assert in_own_connection(lambda: results.extend([sweep.apply().get(), sweep.apply().get()])) == []
        assert results == [{"chained": 1}, {"chained": 0}]  # nothing twice

        assert _committed_chain() == [(1, "sre.test.first"), (2, "sre.test.snapshot")]
        assert verify(_rows()).ok
    finally:
        assert in_own_connection(purge_committed_audit_trail) == []


@pytest.mark.django_db
def test_the_sweep_is_scheduled_every_ten_seconds_and_expires_rather_than_piling_up():
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(name="samia.audit.chain_pending")
    assert (task.task, task.interval.every, task.interval.period, task.expire_seconds, task.enabled) == (
        "samia.audit.chain_pending",
        10,
        "seconds",
        20,
        True,
    )
