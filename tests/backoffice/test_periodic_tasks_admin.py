"""Celery Beat's schedules in the back office (issue 15, item 3): admins read them; only superadmins add,
change, delete, enable or run them; monitors, clients and readers do not see them."""

import pytest
from django.test import Client
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

TASKS = "/backoffice/django_celery_beat/periodictask/"
INTERVALS = "/backoffice/django_celery_beat/intervalschedule/"
WRITE_ACTIONS = ("enable_tasks", "disable_tasks", "toggle_tasks", "run_tasks", "delete_selected")


def _logged_in(user) -> Client:
    client = Client()
    assert client.post("/backoffice/login/", {"username": user.email, "password": PASSWORD}).status_code == 302
    return client


@pytest.fixture
def task(db):
    every_hour, _ = IntervalSchedule.objects.get_or_create(every=1, period="hours")
    return PeriodicTask.objects.create(name="tests.nightly", task="samia.jobs.heartbeat", interval=every_hour)


def test_an_admin_reads_tasks_and_schedules_but_is_offered_no_change(personas, task):
    client = _logged_in(personas["admin"])

    listing = client.get(TASKS).content.decode()
    page = client.get(f"{TASKS}{task.pk}/change/")
    intervals = client.get(INTERVALS)

    assert "tests.nightly" in listing
    assert all(f'value="{action}"' not in listing for action in WRITE_ACTIONS)
    assert f"{TASKS}add/" not in listing
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert intervals.status_code == 200


def test_an_admin_cannot_add_change_delete_or_run_a_task(personas, task):
    client = _logged_in(personas["admin"])

    add = client.get(f"{TASKS}add/")
    change = client.post(f"{TASKS}{task.pk}/change/", {"name": "renamed", "enabled": ""})
    delete = client.post(f"{TASKS}{task.pk}/delete/", {"post": "yes"})
    run = client.post(TASKS, {"action": "run_tasks", "_selected_action": [task.pk]}, follow=True)
    disable = client.post(TASKS, {"action": "disable_tasks", "_selected_action": [task.pk]}, follow=True)
    interval_add = client.get(f"{INTERVALS}add/")

    assert (add.status_code, change.status_code, delete.status_code, interval_add.status_code) == (403, 403, 403, 403)
    assert run.status_code == 200 and disable.status_code == 200
    task.refresh_from_db()
    assert (task.name, task.enabled, task.total_run_count) == ("tests.nightly", True, 0)


def test_a_superadmin_keeps_full_control(personas, task):
    client = _logged_in(personas["superadmin"])

    listing = client.get(TASKS).content.decode()
    add = client.get(f"{TASKS}add/")
    disable = client.post(TASKS, {"action": "disable_tasks", "_selected_action": [task.pk]}, follow=True)

    assert all(f'value="{action}"' in listing for action in WRITE_ACTIONS)
    assert add.status_code == 200
    assert disable.status_code == 200
    task.refresh_from_db()
    assert task.enabled is False


@pytest.mark.parametrize(("role", "status"), [("monitor", 403), ("client", 302), ("reader", 302)])
def test_monitors_clients_and_readers_do_not_see_the_schedules(personas, task, role, status):
    if role == "monitor":
        client = _logged_in(personas[role])
    else:
        client = Client()
        client.force_login(personas[role])

    assert client.get(TASKS).status_code == status
    assert client.get(f"{TASKS}{task.pk}/change/").status_code == status
