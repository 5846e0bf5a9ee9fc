"""Lists draw what unfold draws, with the per-row work that repeats the same markup done once (issue 15,
benchmark): the headers once per page, the row checkbox and the boolean icons once per language.
"""

import re

import pytest
from django.test import Client
from unfold import utils
from unfold.admin import ModelAdmin
from unfold.templatetags import unfold_list

from backoffice import changelist
from samia.rls.admin import DeclaredModelAdmin
from tests.factories import PASSWORD, OrderFactory

pytestmark = pytest.mark.django_db

ORDERS = "/backoffice/marketplace/order/"


def _logged_in(user) -> Client:
    client = Client()
    assert client.post("/backoffice/login/", {"username": user.email, "password": PASSWORD}).status_code == 302
    return client


def _page(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200
    # the only part that differs from one rendering to the next: the masked CSRF token
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())


@pytest.mark.parametrize("language", ["en", "ar"])
def test_a_list_is_the_same_markup_unfold_draws_without_the_shortcuts(personas, monkeypatch, language):
    # given: orders with both values of a boolean column, seen by an admin in each language
    admin = personas["admin"]
    admin.language = language
    admin.save(update_fields=["language"])
    for gold in (True, False, True):
        OrderFactory(client=personas["client"], is_gold=gold)
    client = _logged_in(admin)

    # when: the page is drawn with the shortcuts, then with unfold's own per-row rendering
    shortcut = _page(client, ORDERS)
    monkeypatch.setattr(unfold_list, "result_headers", unfold_list.result_headers.wrapped)
    monkeypatch.setattr(utils, "_boolean_icon", utils._boolean_icon.wrapped)
    monkeypatch.setattr(DeclaredModelAdmin, "action_checkbox", ModelAdmin.action_checkbox)
    unfolds = _page(client, ORDERS)

    # then
    assert shortcut == unfolds
    assert shortcut.count('name="_selected_action"') == 3
    assert "check_small" in shortcut and "close_small" in shortcut


def test_the_headers_are_built_once_per_page_whatever_its_rows(personas, monkeypatch):
    builds = []
    original = unfold_list.result_headers.wrapped

    def counted(cl):
        builds.append(cl)
        return original(cl)

    monkeypatch.setattr(unfold_list, "result_headers", changelist.result_headers_once(counted))
    for _ in range(5):
        OrderFactory(client=personas["client"])

    _page(_logged_in(personas["admin"]), ORDERS)

    assert len(builds) == 1


def test_the_shortcuts_are_installed_once():
    headers, icon = unfold_list.result_headers, utils._boolean_icon

    changelist.install()

    assert (unfold_list.result_headers, utils._boolean_icon) == (headers, icon)
    assert not hasattr(headers.wrapped, "wrapped") and not hasattr(icon.wrapped, "wrapped")
