"""API messages in the caller's language: errors, notification texts and the SMS HELP reply, through the catalogs."""

import pytest

from notifications import order_updates
from notifications.dispatch.messages import footer
from notifications.models import Notification
from tests import factories
from tests.conftest import api_as
from tests.notifications.conftest import twilio, twilio_server  # noqa: F401  (fixtures)
from tests.notifications.helpers import recipient
from tests.notifications.webhook_helpers import PHONE, inbound

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("language", "message"), [("en", "No such horoscope."), ("ar", "لا يوجد برج بهذا المعرّف.")])
def test_it_answers_errors_in_the_profile_language(personas, language, message):
    admin = personas["admin"]
    admin.language = language
    admin.save(update_fields=["language"])
    response = api_as(admin).post("/admin/horoscopes/999999/approve")
    assert (response.status_code, response.json()["error"]["message"]) == (404, message)


def test_the_profile_language_wins_over_accept_language(personas):
    admin = personas["admin"]  # English profile
    response = api_as(admin).post("/admin/horoscopes/999999/approve", HTTP_ACCEPT_LANGUAGE="ar")
    assert response.json()["error"]["message"] == "No such horoscope."


def test_it_answers_anonymous_callers_in_their_accept_language():
    response = api_as().get("/admin/i18n/status", HTTP_ACCEPT_LANGUAGE="ar")
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "لم يتم تزويد بيانات الدخول."
    assert response["Content-Language"] == "ar"


def test_it_answers_validation_errors_in_arabic(personas):
    admin = personas["admin"]
    admin.language = "ar"
    admin.save(update_fields=["language"])
    response = api_as(admin).post("/admin/i18n/review", {"ids": [], "status": "approved"}, format="json")
    assert response.json()["error"]["message"] == "الطلب غير صالح؛ راجع التفاصيل."


def test_it_writes_order_updates_and_footers_in_the_recipients_language(personas):
    reader = factories.UserFactory(role="reader", language="ar")
    order = factories.OrderFactory(client=personas["client"], reader=reader, status="assigned")
    order_updates._plan([(1, None, "order.assigned", order.pk)])
    notification = Notification.objects.get(user=reader)
    assert (notification.title, notification.body) == ("قراءة جديدة", f"الطلب رقم {order.pk} بانتظارك.")
    assert footer("marketing", "ar") == "SAMIA: أرسل STOP لإيقاف الرسائل"
    assert footer("marketing", "fr") == "SAMIA: Reply STOP to opt out"


@pytest.mark.parametrize(
    ("language", "reply"),
    [
        ("en", "SAMIA: reading updates and offers. Reply STOP to unsubscribe, START to resubscribe."),
        ("ar", "SAMIA: تحديثات القراءات والعروض. أرسل STOP لإلغاء الاشتراك وSTART لإعادته."),
    ],
)
def test_the_sms_help_reply_follows_the_number_holders_language(twilio, language, reply):  # noqa: F811
    recipient(phone=PHONE, language=language)
    response = inbound(twilio, "HELP")
    assert response.content.decode().endswith(f"<Message>{reply}</Message></Response>")


def test_the_sms_help_reply_to_an_unknown_number_is_english(twilio):  # noqa: F811
    response = inbound(twilio, "HELP")
    assert "Reply STOP to unsubscribe" in response.content.decode()
