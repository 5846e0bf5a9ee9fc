"""Headless Chromium against the live server: the driver, the screenshot folder, a clean trail afterwards,
and the month of rollups and the open case the pages show."""

import datetime as dt
import shutil

import pytest
from django.conf import settings
from django.utils import timezone

from analytics.models import DailyActiveUsers, DailyCalls, DailyFulfillment, DailyModeration, DailyPayments
from backoffice.selectors import business_today
from moderation.models import Case, ReasonCode
from tests.conftest import purge_committed_audit_trail

SCREENSHOTS = settings.BASE_DIR / "var" / "screenshots"


@pytest.fixture(scope="session")
def chrome():
    """One headless Chromium for the session (Debian's `chromium` and `chromium-driver`)."""
    chromedriver = shutil.which("chromedriver")  # /usr/bin/chromedriver from Debian's chromium-driver
    if not (shutil.which("chromium") and chromedriver):
        pytest.skip(
            "Chromium is not installed: make test installs chromium and chromium-driver "
            "(apt-get install chromium chromium-driver) for the browser tests."
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900"):
        options.add_argument(argument)
    options.add_argument("--lang=en-US")
    driver = webdriver.Chrome(service=Service(executable_path=chromedriver), options=options)
    driver.set_page_load_timeout(20)
    yield driver
    driver.quit()


@pytest.fixture
def browser(chrome, live_server):
    """The session's browser, signed out, with the live server's URL as `browser.base`."""
    chrome.delete_all_cookies()
    chrome.base = live_server.url
    yield chrome
    chrome.delete_all_cookies()


@pytest.fixture
def committed(transactional_db):
    """The live server commits for real: purge the audit trail the retention way before Django flushes."""
    yield
    purge_committed_audit_trail()


@pytest.fixture(scope="session")
def screenshots():
    """Where the test artefacts go (var/ is not committed)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / "failed.png").unlink(missing_ok=True)
    return SCREENSHOTS


@pytest.fixture
def kpis():
    """A month of rollups, so the dashboard's charts have something to draw."""
    today = business_today()
    for back in range(30):
        day = today - dt.timedelta(days=back)
        created = 10 + back % 7
        DailyFulfillment.objects.create(
            day=day,
            service="tarot",
            created=created,
            approved=created - 3,
            rejected=2,
            delivered=created - 4,
            ttf_delivery_seconds=[3600 + 600 * (back % 5), 7200 + 900 * (back % 3)],
        )
        DailyModeration.objects.create(
            day=day, approved=created - 3, rejected=2, delivered=created - 4, calls_dropped=1, calls_ended=5
        )
        DailyPayments.objects.create(day=day, provider="stripe", country="SA", attempts=8, succeeded=7, failed=1)
        DailyPayments.objects.create(day=day, provider="square", country="SA", attempts=3, succeeded=2, failed=1)
        DailyCalls.objects.create(day=day, scheduled=6, answered=5, dropped=1, ended=4)
        DailyActiveUsers.objects.create(day=day, dau=40 + back % 9, wau=180, mau=600)


@pytest.fixture
def case(personas):
    """An open case about the client themselves (no order), with its SLA due in a day."""
    now = timezone.now()
    return Case.objects.create(
        subject=personas["client"],
        reason=ReasonCode.objects.get(code="harassment"),
        priority="high",
        opened_at=now,
        sla_due_at=now + dt.timedelta(hours=24),
        resolution_note="",
    )
