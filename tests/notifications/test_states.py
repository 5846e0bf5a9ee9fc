"""The send state machine: the trigger installed by migrations is the one states.py renders."""


def test_the_migration_guard_matches_the_state_machine():
    import importlib

    from notifications.states import state_guard_sql

    migration = importlib.import_module("notifications.migrations.0008_send_state_skipped_quiet_hours")
    assert state_guard_sql() == migration.GUARD_SQL
