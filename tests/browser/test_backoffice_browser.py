"""The back office in a real browser (issue 15, Tests): headless Chromium against the live server.

Bob the monitor triages a case: he blocks its subject and resolves it with a note. Alice the admin
approves an order, previews a campaign in Arabic and verifies the audit chain. Each step leaves a
screenshot under var/screenshots/, and the dashboard is photographed in English and in Arabic.
"""

import datetime as dt

import pytest
from django.utils import timezone
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as seen
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.browser.conftest import SCREENSHOTS
from tests.factories import PASSWORD, OrderFactory

# The live server commits; the flush after each test empties what the data migrations installed (reason
# codes, periodic tasks), so each test starts from the database as it was created.
pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.usefixtures("committed")]

ARABIC = "قراءة البدر بخصم"
WAIT_SECONDS = 10


def _wait(browser):
    return WebDriverWait(browser, WAIT_SECONDS)


def _sign_in(browser, user) -> None:
    """Through the real login form at /backoffice/login/."""
    browser.delete_all_cookies()
    browser.get(f"{browser.base}/backoffice/login/")
    browser.find_element(By.NAME, "username").send_keys(user.email)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit], form input[type=submit]").click()
    _wait(browser).until(seen.url_to_be(f"{browser.base}/backoffice/"))


def _message(browser, text: str) -> None:
    """Wait until the page says `text` (a message after a redirect)."""
    try:
        _wait(browser).until(seen.text_to_be_present_in_element((By.CSS_SELECTOR, "#content, main, body"), text))
    except TimeoutException:
        browser.save_screenshot(str(SCREENSHOTS / "failed.png"))
        pytest.fail(f"the page never said {text!r} (var/screenshots/failed.png shows what it did say)")


def _shoot(browser, screenshots, name: str) -> None:
    assert browser.save_screenshot(str(screenshots / f"{name}.png"))


def _charts_drawn(browser) -> bool:
    """Every KPI canvas has a Chart.js chart with a drawn area."""
    return browser.execute_script(
        "const canvases = [...document.querySelectorAll('canvas')];"
        "return canvases.length > 0 && canvases.every(c => window.Chart && Chart.getChart(c)"
        " && Chart.getChart(c).chartArea && c.width > 0 && c.height > 0);"
    )


def test_a_monitor_resolves_a_case_by_blocking_its_subject(browser, screenshots, personas, case):
    # given
    _sign_in(browser, personas["monitor"])

    # when: from the queue to the case
    browser.get(f"{browser.base}/backoffice/moderation/case/")
    link = _wait(browser).until(
        seen.element_to_be_clickable((By.CSS_SELECTOR, f'a[href*="/backoffice/moderation/case/{case.pk}/change/"]'))
    )
    _shoot(browser, screenshots, "monitor_case_queue")
    link.click()
    block = _wait(browser).until(seen.presence_of_element_located((By.CSS_SELECTOR, "form[data-action=block]")))
    _shoot(browser, screenshots, "monitor_case_page")

    # when: block the subject for three days, for the case's reason (the block is filed on this case)
    Select(block.find_element(By.NAME, "block-reason")).select_by_value("harassment")
    block.find_element(By.NAME, "block-days").send_keys("3")
    block.find_element(By.CSS_SELECTOR, "button[name=do][value=block]").click()
    _message(browser, "Done: Block user, recorded on this case.")
    _shoot(browser, screenshots, "monitor_subject_blocked")
    assert not browser.find_elements(By.CSS_SELECTOR, "form[data-action=block]")  # the subject is blocked now

    # when: resolve with a note
    resolve = browser.find_element(By.CSS_SELECTOR, "form[data-action=resolve]")
    resolve.find_element(By.NAME, "resolve-note").send_keys("Blocked for three days; the order stays.")
    resolve.find_element(By.CSS_SELECTOR, "button[name=do][value=resolve]").click()
    _message(browser, "The case is resolved.")
    _shoot(browser, screenshots, "monitor_case_resolved")

    # then: the page offers nothing but the evidence graph any more, and the database agrees
    offered = {b.get_attribute("value") for b in browser.find_elements(By.CSS_SELECTOR, "button[name=do]")}
    assert offered <= {"lineage"}
    case.refresh_from_db()
    subject = personas["client"]
    subject.refresh_from_db()
    assert (case.status, case.resolution_note, case.resolved_by_id) == (
        "resolved",
        "Blocked for three days; the order stays.",
        personas["monitor"].pk,
    )
    assert subject.is_blocked
    assert subject.blocked_until - timezone.now() > dt.timedelta(days=2, hours=23)


def test_an_admin_approves_an_order(browser, screenshots, personas):
    # given
    order = OrderFactory(client=personas["client"], reader=personas["reader"], status="awaiting_approval")
    _sign_in(browser, personas["admin"])

    # when
    browser.get(f"{browser.base}/backoffice/marketplace/order/{order.pk}/change/")
    approve = _wait(browser).until(
        seen.element_to_be_clickable((By.CSS_SELECTOR, "form[data-action=approve] button[value=approve]"))
    )
    _shoot(browser, screenshots, "admin_order_awaiting_approval")
    approve.click()

    # then
    _message(browser, f"Order #{order.pk}: approve done; it is now approved.")
    _shoot(browser, screenshots, "admin_order_approved")
    assert not browser.find_elements(By.CSS_SELECTOR, "form[data-action=approve]")
    order.refresh_from_db()
    assert order.status == "approved"


def test_an_admin_previews_a_campaign_in_arabic_right_to_left(browser, screenshots, personas):
    # given
    _sign_in(browser, personas["admin"])
    browser.get(f"{browser.base}/backoffice/notifications/campaign/add/")
    form = _wait(browser).until(seen.presence_of_element_located((By.NAME, "body_ar")))

    # when: staff type; the preview redraws itself
    browser.find_element(By.NAME, "body_en").send_keys("A full moon reading")
    form.send_keys(ARABIC)
    arabic = (By.CSS_SELECTOR, '#campaign-preview section[lang="ar"] p[dir="auto"]')
    _wait(browser).until(seen.text_to_be_present_in_element(arabic, ARABIC))
    preview = browser.find_element(*arabic)
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", preview)
    _shoot(browser, screenshots, "admin_campaign_preview_ar")

    # then
    section = browser.find_element(By.CSS_SELECTOR, '#campaign-preview section[lang="ar"]')
    assert section.get_attribute("dir") == "rtl"
    assert preview.value_of_css_property("direction") == "rtl"
    english = browser.find_element(By.CSS_SELECTOR, '#campaign-preview section[lang="en"]')
    assert english.value_of_css_property("direction") == "ltr"


def test_an_admin_verifies_the_whole_chain(browser, screenshots, personas, case):
    # given: something in the trail (blocking files an audit entry)
    from moderation import services
    from samia.rls.registry import Identity

    services.user_block(
        identity=Identity.of(personas["admin"]),
        user_id=case.subject_id,
        reason_code="fraud",
        duration=None,
        evidence=[f"case:{case.pk}"],
    )
    _sign_in(browser, personas["admin"])

    # when
    browser.get(f"{browser.base}/backoffice/audit/auditentry/")
    button = _wait(browser).until(seen.element_to_be_clickable((By.CSS_SELECTOR, "#verify-chain button[type=submit]")))
    button.click()

    # then
    _message(browser, "The chain verifies:")
    _shoot(browser, screenshots, "admin_chain_verified")


@pytest.mark.parametrize("language", ["en", "ar"])
def test_the_dashboard_draws_in_each_language(browser, screenshots, personas, kpis, case, language):
    # given: an admin who reads the back office in `language`
    admin = personas["admin"]
    admin.language = language
    admin.save(update_fields=["language"])
    OrderFactory(client=personas["client"], reader=personas["reader"], status="awaiting_approval")
    _sign_in(browser, admin)

    # when
    browser.get(f"{browser.base}/backoffice/")
    _wait(browser).until(lambda driver: _charts_drawn(driver))
    # the whole page in one picture, and Chart.js's entry animation over
    # (unfold scrolls its main column, not the document: the tallest scroller sets the height)
    height = browser.execute_script("return Math.max(...[...document.querySelectorAll('*')].map(e => e.scrollHeight))")
    browser.set_window_size(1280, min(height + 200, 4000))
    _wait(browser).until(lambda driver: driver.execute_script("return !Chart.animator._running"))
    _shoot(browser, screenshots, f"dashboard_{language}")
    browser.set_window_size(1280, 900)

    # then
    html = browser.find_element(By.TAG_NAME, "html")
    expected = "rtl" if language == "ar" else "ltr"
    assert (html.get_attribute("lang"), html.get_attribute("dir")) == (language, expected)
    assert browser.find_element(By.TAG_NAME, "body").value_of_css_property("direction") == expected
