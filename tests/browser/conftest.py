"""Headless Chromium against the live server: the driver, the screenshot folder, and a clean trail afterwards."""

import shutil

import pytest
from django.conf import settings

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
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1440,1000"):
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
