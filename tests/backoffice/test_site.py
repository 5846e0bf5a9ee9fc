"""The back office's frame (issue 15, items 1, 3, 4, 6 and 7): unfold's site and theme on every page,
a sidebar that lists only what the role may view, periodic tasks written by superadmins only,
bulk actions that say "done / refused" at the right level, HTML error pages, the staff member's
profile language, and API docs served without any CDN.
"""

import re

import pytest
from django.contrib import admin, messages
from django.contrib.messages.storage.cookie import CookieStorage
from django.contrib.staticfiles import finders
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone
from django_celery_beat.models import PeriodicTask
from unfold.admin import ModelAdmin as UnfoldModelAdmin
from unfold.sites import UnfoldAdminSite

from backoffice.navigation import areas
from moderation.models import Case, ReasonCode
from samia.errors import server_error
from samia.exceptions import Conflict
from samia.rls.admin import run_action
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def _logged_in(user) -> Client:
    client = Client()
    assert client.post("/backoffice/login/", {"username": user.email, "password": PASSWORD}).status_code == 302
    return client


def test_it_draws_every_page_with_unfold():
    assert isinstance(admin.site, UnfoldAdminSite)
    for model, model_admin in admin.site._registry.items():
        assert isinstance(model_admin, UnfoldModelAdmin), model


@pytest.mark.parametrize("role", ["monitor", "admin", "superadmin"])
def test_it_lists_in_the_sidebar_exactly_the_pages_the_role_may_view(personas, role):
    client = _logged_in(personas[role])

    response = client.get("/backoffice/")

    navigation = response.context["sidebar_navigation"]
    assert [group["title"] for group in navigation] == ["", *(title for title, _, _ in areas(admin.site))]
    shown = {item["link"] for group in navigation for item in group["items"] if item["has_permission"]}
    request = response.wsgi_request
    viewable = {
        f"/backoffice/{model._meta.app_label}/{model._meta.model_name}/"
        for model, model_admin in admin.site._registry.items()
        if model_admin.has_view_permission(request)
    }
    two_factor = {link for link in shown if link.startswith("/backoffice/2fa/")}
    listed = {link for link in shown if "#" not in link and link != "/backoffice/"} - two_factor
    assert listed == viewable
    expected_two_factor = (
        {"/backoffice/2fa/", "/backoffice/2fa/staff/"} if role == "superadmin" else {"/backoffice/2fa/"}
    )
    assert two_factor == expected_two_factor
    html = response.content.decode()
    for link in listed:
        assert f'href="{link}"' in html


def test_it_lets_admins_read_periodic_tasks_and_only_superadmins_change_or_run_them(personas):
    task = PeriodicTask.objects.filter(task="moderation.verify_audit").first()
    admin_client, superadmin_client = _logged_in(personas["admin"]), _logged_in(personas["superadmin"])
    url = f"/backoffice/django_celery_beat/periodictask/{task.pk}/change/"

    as_admin, as_superadmin = admin_client.get(url), superadmin_client.get(url)
    admin_list = admin_client.get("/backoffice/django_celery_beat/periodictask/")
    run = admin_client.post(
        "/backoffice/django_celery_beat/periodictask/", {"action": "run_tasks", "_selected_action": [task.pk]}
    )

    assert (as_admin.status_code, as_superadmin.status_code) == (200, 200)
    assert b'name="_save"' not in as_admin.content and b'name="_save"' in as_superadmin.content
    assert b'name="action"' not in admin_list.content
    assert run.status_code == 200  # no such action offered: the list again, nothing run
    assert admin_client.get("/backoffice/django_celery_beat/periodictask/add/").status_code == 403


def _request(rf, user):
    request = rf.post("/backoffice/moderation/case/")
    request.user = user
    request._messages = CookieStorage(request)
    return request


def _case(subject):
    reason = ReasonCode.objects.order_by("code").first()
    return Case.objects.create(subject=subject, reason=reason, priority="low", sla_due_at=timezone.now())


def test_it_reports_a_bulk_action_done_at_success_level(rf, personas):
    request = _request(rf, personas["admin"])
    _case(personas["client"]), _case(personas["reader"])

    result = run_action(request, Case.objects.order_by("id"), lambda case: None)

    assert result == (2, 0)
    assert [(m.level, m.message) for m in request._messages] == [(messages.SUCCESS, "2 done.")]


def test_it_reports_refusals_by_id_in_words_at_warning_or_error_level(rf, personas):
    request = _request(rf, personas["admin"])
    first, second = _case(personas["client"]), _case(personas["reader"])

    def refuse_second(case):
        if case.pk == second.pk:
            raise ValidationError({"note": ["Write a resolution note first."]})

    def refuse_both(case):
        if case.pk == first.pk:
            raise Conflict("This case is already resolved.", status="resolved")
        # Postgres refuses: a resolved case needs its resolution time (a check constraint)
        Case.objects.filter(pk=case.pk).update(status="resolved")

    some = run_action(request, Case.objects.order_by("id"), refuse_second)
    none = run_action(request, Case.objects.order_by("id"), refuse_both)

    stored = [(m.level, m.message) for m in request._messages]
    assert (some, none) == ((1, 1), (0, 2))
    assert stored[0] == (messages.WARNING, f"1 done, 1 refused. #{second.pk}: Write a resolution note first.")
    assert stored[1][0] == messages.ERROR
    assert stored[1][1].startswith(f"0 done, 2 refused. #{first.pk}: This case is already resolved.; #{second.pk}: ")
    assert "CONTEXT" not in stored[1][1] and "violates" not in stored[1][1]
    assert Case.objects.filter(status="resolved").count() == 0


def test_it_lets_a_bug_in_an_action_stay_a_server_error(rf, personas):
    request = _request(rf, personas["admin"])
    _case(personas["client"])

    with pytest.raises(ZeroDivisionError):
        run_action(request, Case.objects.all(), lambda case: 1 / 0)


def _is_html_page(response, status: int) -> bool:
    return (
        response.status_code == status
        and response["Content-Type"].startswith("text/html")
        and f'<h1 class="font-semibold text-2xl">{status}:'.encode() in response.content
    )


def test_it_answers_back_office_errors_with_html_pages_and_the_api_with_json(personas, rf):
    monitor = _logged_in(personas["monitor"])
    csrf_client = Client(enforce_csrf_checks=True)

    missing = monitor.get("/backoffice/no-such-app/no-such-page/")
    forbidden = monitor.get("/backoffice/notifications/campaign/")
    monitor.raise_request_exception = False  # Django answers a bad Host header with handler400
    malformed = monitor.get("/backoffice/", HTTP_HOST="bad host")
    csrf = csrf_client.post("/backoffice/login/", {"username": "x", "password": "y"})
    crashed = server_error(rf.get("/backoffice/marketplace/order/"))
    api_missing = Client().get("/no-such-route")

    assert _is_html_page(missing, 404)
    assert _is_html_page(forbidden, 403)
    assert _is_html_page(malformed, 400)
    assert _is_html_page(csrf, 403) and b"The CSRF check failed" in csrf.content
    assert _is_html_page(crashed, 500) and b"quote the request id" in crashed.content
    assert api_missing.status_code == 404 and api_missing.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(("language", "direction"), [("ar", "rtl"), ("en", "ltr")])
def test_it_speaks_the_staff_members_profile_language(personas, language, direction):
    admin_user = personas["admin"]
    admin_user.language = language
    admin_user.save(update_fields=["language"])
    client = _logged_in(admin_user)

    # the browser asks for the other language: the profile wins in the back office
    response = client.get("/backoffice/", HTTP_ACCEPT_LANGUAGE="en" if language == "ar" else "ar")
    api = client.get("/healthz", HTTP_ACCEPT_LANGUAGE="ar")

    assert response.status_code == 200
    assert f'<html lang="{language}" dir="{direction}"'.encode() in response.content
    assert response["Content-Language"] == language
    assert api["Content-Language"] == "ar"  # outside the back office the profile does not apply


def test_it_keeps_the_login_page_in_the_browsers_language():
    response = Client().get("/backoffice/login/", HTTP_ACCEPT_LANGUAGE="ar")

    assert b'dir="rtl"' in response.content


@pytest.mark.parametrize("url", ["/api/docs/", "/api/redoc/"])
def test_it_serves_the_api_docs_from_its_own_static_files(url):
    response = Client().get(url)

    html = response.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert response.status_code == 200
    assert assets and all(asset.startswith("/static/") or asset.startswith("/api/") for asset in assets), assets
    assert "cdn" not in html and "unpkg" not in html and "https://" not in html
    for asset in assets:
        if asset.startswith("/static/"):
            assert finders.find(asset.removeprefix("/static/")), asset


def test_it_ships_chart_js_with_the_theme(personas):
    response = _logged_in(personas["admin"]).get("/backoffice/")

    assert b'src="/static/unfold/js/chart/chart.js"' in response.content
    assert finders.find("unfold/js/chart/chart.js")
