"""POST /admin/campaigns: malformed input is a 400 and creates nothing."""

import pytest

from notifications.models import Campaign
from tests.conftest import api_as
from tests.notifications.helpers import CAMPAIGN

pytestmark = pytest.mark.django_db


def test_campaign_input_is_validated(personas):
    admin = api_as(personas["admin"])
    bad = [
        {**CAMPAIGN, "templates": {"fr": {"body": "x"}}},
        {**CAMPAIGN, "templates": {"ar": {"body": "x"}}},  # English is the fallback and required
        {**CAMPAIGN, "local_time": "23:30"},  # inside quiet hours
        {**CAMPAIGN, "channel": "whatsapp"},  # WhatsApp campaigns need approved templates
        {**CAMPAIGN, "purpose": "transactional"},
        {**CAMPAIGN, "audience": {"countries": ["Saudi"]}},
        {**CAMPAIGN, "send_on": "tomorrow"},
    ]
    for body in bad:
        answer = admin.post("/admin/campaigns", body, format="json")
        assert answer.status_code == 400, body
        assert answer.json()["error"]["code"] == "invalid"
    assert not Campaign.objects.exists()
