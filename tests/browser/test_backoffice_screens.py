"""The screens BACKOFFICE_README.md shows, one role at a time, in headless Chromium 1280 px wide.

Each test opens what that role works with and checks the page offers what the role may do (and
nothing else), then leaves a PNG under var/screenshots/ (`readme_*`); docs/screenshots/ holds the
copies the README embeds (BACKOFFICE_README.md, "Screens by role", says how to refresh them).
"""

import pytest
from django.urls import reverse
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as seen
from selenium.webdriver.support.ui import WebDriverWait

from moderation import services
from samia.audit.models import AuditEntry
from samia.rls.registry import Identity
from tests.browser.test_backoffice_browser import _charts_drawn, _sign_in
from tests.factories import OrderFactory

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.usefixtures("committed")]


def _speak(user, language: str) -> None:
    user.language = language
    user.save(update_fields=["language"])


def _open(browser, path: str, ready: str) -> None:
    browser.get(f"{browser.base}{path}")
    WebDriverWait(browser, 10).until(seen.presence_of_element_located((By.CSS_SELECTOR, ready)))


def _shoot_page(browser, screenshots, name: str, *, limit: int = 2400) -> None:
    """The whole page (up to `limit` px tall) in one 1280 px wide picture; unfold scrolls its main column."""
    height = browser.execute_script("return Math.max(...[...document.querySelectorAll('*')].map(e => e.scrollHeight))")
    browser.set_window_size(1280, min(height + 120, limit))
    try:
        assert browser.save_screenshot(str(screenshots / f"readme_{name}.png"))
    finally:
        browser.set_window_size(1280, 900)


def _offered(browser) -> set[str]:
    return {form.get_attribute("data-action") for form in browser.find_elements(By.CSS_SELECTOR, "form[data-action]")}


def test_a_monitors_screens(browser, screenshots, personas, kpis, case):
    # given
    monitor = personas["monitor"]
    OrderFactory(client=personas["client"], reader=personas["reader"], status="awaiting_approval")
    _sign_in(browser, monitor)

    # when: the dashboard (cases, orders, the moderation KPIs: what a monitor may read)
    browser.get(f"{browser.base}/backoffice/")
    WebDriverWait(browser, 10).until(lambda driver: _charts_drawn(driver))
    WebDriverWait(browser, 10).until(lambda driver: driver.execute_script("return !Chart.animator._running"))
    page = browser.page_source
    _shoot_page(browser, screenshots, "monitor_dashboard")

    # then: no campaign, provider or audit widget for a monitor
    assert "Open cases by priority" in page and "Campaigns in flight" not in page

    # when: the case page, in Arabic
    _speak(monitor, "ar")
    _sign_in(browser, monitor)
    _open(browser, f"/backoffice/moderation/case/{case.pk}/change/", "form[data-action=block]")
    offered = _offered(browser)
    _shoot_page(browser, screenshots, "monitor_case_ar")

    # then: the monitor may act on the subject and the case
    assert {"assign", "block", "resolve"} <= offered
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("dir") == "rtl"


def test_an_admins_screens(browser, screenshots, personas):
    # given
    admin = personas["admin"]
    order = OrderFactory(
        client=personas["client"],
        reader=personas["reader"],
        status="awaiting_approval",
        question="هل سأجد عملاً جديداً هذا العام؟",
    )
    services.user_block(
        identity=Identity.of(admin), user_id=personas["client"].pk, reason_code="fraud", duration=None, evidence=[]
    )
    entry = AuditEntry.objects.filter(action="moderation.user.block").latest("seq")
    _sign_in(browser, admin)

    # when: an order awaiting approval, in English, then in Arabic
    _open(browser, f"/backoffice/marketplace/order/{order.pk}/change/", "form[data-action=approve]")
    offered = _offered(browser)
    _shoot_page(browser, screenshots, "admin_order_en")
    _speak(admin, "ar")
    _sign_in(browser, admin)
    _open(browser, f"/backoffice/marketplace/order/{order.pk}/change/", "form[data-action=approve]")
    _shoot_page(browser, screenshots, "admin_order_ar")

    # then: the buttons the guard admits for an admin on an order awaiting approval
    assert {"approve", "reject"} <= offered and "deliver" not in offered

    # when: an audit entry, in English
    _speak(admin, "en")
    _sign_in(browser, admin)
    _open(browser, reverse("admin:audit_auditentry_change", args=[entry.pk]), "#content, main")
    page = browser.page_source
    _shoot_page(browser, screenshots, "admin_audit_entry")

    # then: its payload, hashes and their checks
    assert "Matches: sha256(previous hash + payload) is this row's hash." in page
    assert entry.row_hash in page


def test_a_superadmins_screens(browser, screenshots, personas):
    # given
    _sign_in(browser, personas["superadmin"])

    # when: the periodic tasks (run, enable, disable: superadmins only) and the staff second-factor resets
    _open(browser, "/backoffice/django_celery_beat/periodictask/", "#changelist-form, #result_list, main")
    actions = {
        option.get_attribute("value") for option in browser.find_elements(By.CSS_SELECTOR, "select[name=action] option")
    }
    _shoot_page(browser, screenshots, "superadmin_periodic_tasks")
    _open(browser, "/backoffice/2fa/staff/", "#two-factor-staff")
    _shoot_page(browser, screenshots, "superadmin_two_factor_resets")

    # then
    assert "run_tasks" in actions
