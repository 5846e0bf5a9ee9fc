"""A kept test database that an earlier run's transactional tests emptied is created afresh."""

import uuid

import psycopg
import pytest
from django.db import connections

from tests.conftest import flushed_by_an_earlier_run


@pytest.fixture
def scratch():
    """A throwaway database with the periodic-task table, as migrations leave it (but empty)."""
    settings_dict = dict(connections["default"].settings_dict)
    name = f"test_kept_{uuid.uuid4().hex[:12]}"
    server = {"host": settings_dict.get("HOST") or None, "port": settings_dict.get("PORT") or None}
    server["user"] = settings_dict.get("USER") or None
    with psycopg.connect(dbname="postgres", autocommit=True, **server) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    with psycopg.connect(dbname=name, autocommit=True, **server) as database:
        database.execute("CREATE TABLE django_celery_beat_periodictask (id int)")
    yield {**settings_dict, "TEST": {**settings_dict["TEST"], "NAME": name}}, server, name
    with psycopg.connect(dbname="postgres", autocommit=True, **server) as admin:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def test_an_emptied_schedule_table_means_the_database_was_flushed(scratch):
    settings_dict, _, _ = scratch

    assert flushed_by_an_earlier_run(settings_dict) is True


def test_a_database_with_its_schedules_is_kept(scratch):
    settings_dict, server, name = scratch
    with psycopg.connect(dbname=name, autocommit=True, **server) as database:
        database.execute("INSERT INTO django_celery_beat_periodictask VALUES (1)")

    assert flushed_by_an_earlier_run(settings_dict) is False


def test_a_missing_database_is_left_to_be_created(scratch):
    settings_dict, _, _ = scratch
    missing = {**settings_dict, "TEST": {**settings_dict["TEST"], "NAME": "test_kept_does_not_exist"}}

    assert flushed_by_an_earlier_run(missing) is False
