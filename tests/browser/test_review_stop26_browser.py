"""Review stop 26 in a real browser: the ops pages' forms as Chromium posts them (CSRF token, the
select's choices, the checkbox), a superadmin's rotation and an admin's switch, and no value or
ciphertext of the keyring anywhere in the pages' source."""

import base64

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from ops.models import ProviderState, SecretRotation
from samia.audit.models import AuditEntry
from samia.secrets import keyring, store
from tests.backoffice.test_ops_admin import _empty_keyring
from tests.browser.test_backoffice_browser import _message, _sign_in
from tests.ops.conftest import age

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.usefixtures("committed")]

KEYS = ("jwt", "tracking_links", "storage_urls", "audit_signing")


@pytest.fixture
def keys(transactional_db):
    _empty_keyring()
    keyring.reload(keyring.generation())  # version 1 of each from the environment
    age("tracking_links", seconds=120)
    yield
    _empty_keyring()


def _shown_nowhere(page: str) -> None:
    for row in store.rows(store.SELECT_ALL):
        assert not row["ciphertext"] or row["ciphertext"][:20] not in page
    for name in KEYS:
        for key in keyring.verifying(name):
            for form in (key.value, base64.b64encode(key.value), base64.urlsafe_b64encode(key.value)):
                assert form.decode(errors="replace") not in page
            assert key.value.hex() not in page


def test_a_superadmin_rotates_and_an_admin_switches_through_the_real_forms(browser, personas, keys):
    _sign_in(browser, personas["superadmin"])
    browser.get(f"{browser.base}/backoffice/ops/secretrotation/")
    form = browser.find_element(By.ID, "rotate-key")
    Select(form.find_element(By.NAME, "name")).select_by_value("tracking_links")
    form.find_element(By.NAME, "reason").send_keys("drill")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    _message(browser, "tracking_links rotated: version 2")
    keyring.reload(keyring.generation())
    _shown_nowhere(browser.page_source)

    _sign_in(browser, personas["admin"])
    browser.get(f"{browser.base}/backoffice/ops/providerstate/add/")
    Select(browser.find_element(By.NAME, "name")).select_by_value("sms")
    enabled = browser.find_element(By.NAME, "enabled")
    if enabled.is_selected():
        browser.execute_script("arguments[0].click()", enabled)
    browser.find_element(By.NAME, "reason").send_keys("carrier outage")
    browser.find_element(By.NAME, "_save").click()
    _message(browser, "sms: off")

    rotation = SecretRotation.objects.get()
    assert (rotation.name, rotation.version, rotation.rotated_by_id) == ("tracking_links", 2, personas["superadmin"].pk)
    state = ProviderState.objects.get()
    assert (state.name, state.enabled, state.changed_by_id) == ("sms", False, personas["admin"].pk)
    assert AuditEntry.objects.get(action="ops.provider.toggle").details == {"provider": "sms", "enabled": False}
    assert AuditEntry.objects.get(action="ops.secret.rotate").details["reason"] == "drill"


def test_a_monitor_is_offered_no_rotation_and_no_switch(browser, personas, keys):
    _sign_in(browser, personas["monitor"])

    browser.get(f"{browser.base}/backoffice/ops/providerstate/")
    listing = browser.page_source
    browser.get(f"{browser.base}/backoffice/ops/secretrotation/")

    assert "/backoffice/ops/providerstate/add/" not in listing
    assert not browser.find_elements(By.ID, "rotate-key")
    _shown_nowhere(browser.page_source)
