"""What the tests of queued schedules share (test_schedule_job.py, test_schedule_job_backoffice.py).

NOTIFICATIONS_SCHEDULE_JOB_USERS = 0 queues every schedule, so they need no large table. The job runs
by calling the task's body on the order the request signed. Their fixtures (`queued`, `published`,
`lock_holder`) are in conftest.py.
"""

from django.core import signing

from notifications import schedule_requests, tasks
from samia.audit.models import AuditEntry
from tests.conftest import api_as
from tests.notifications.helpers import CAMPAIGN, recipient


def draft(admin) -> int:
    for phone in ("+447700900301", "+447700900302"):
        recipient(zone="Europe/London", phone=phone)
    answer = api_as(admin).post("/admin/campaigns", CAMPAIGN, format="json")
    assert answer.status_code == 201, answer.json()
    return answer.json()["id"]


def order_of(order: str) -> tuple[int, int]:
    found = signing.loads(order, salt=schedule_requests.ORDER_SALT)
    return found["campaign"], found["user"]


def run_job(campaign_id: int, user_id: int) -> dict:
    """The job, on the order the request would have signed."""
    return tasks.schedule_campaign.run(schedule_requests.schedule_order(campaign_id, user_id))


def denied(campaign_id) -> list:
    entries = AuditEntry.objects.filter(action="notifications.campaign.schedule", outcome="denied")
    return [
        (e.actor_role, e.details["reason"])
        for e in entries
        if e.target_id == ("" if campaign_id is None else str(campaign_id))
    ]
