"""Small builders shared by the notifications tests."""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.utils import timezone

from notifications import services
from notifications.dispatch import _json
from notifications.models import Send
from samia.rls.binding import bound
from samia.rls.registry import Identity
from tests import factories

# A campaign as POST /admin/campaigns takes it.
CAMPAIGN = {
    "name": "Full moon offer",
    "channel": "sms",
    "audience": {"roles": ["client"]},
    "templates": {"en": {"title": "", "body": "A full moon reading, 20% off"}, "ar": {"body": "قراءة البدر بخصم"}},
    "send_on": "2026-11-01",  # the day New York leaves daylight saving time
    "local_time": "10:00",
}


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def identity(user) -> Identity:
    return Identity(user.pk, user.role)


def opted_in(user, channel: str, purpose: str = "marketing"):
    with bound(identity(user)):
        services.consent_record(
            user_id=user.pk, channel=channel, purpose=purpose, granted=True, source="api", actor=identity(user)
        )


def zone_at_local_hour(hour: int, now: dt.datetime | None = None) -> str:
    """A fixed-offset zone whose local hour is `hour` now (Etc/GMT signs are inverted)."""
    now = now or timezone.now()
    offset = (hour - now.hour) % 24
    if offset > 14:
        offset -= 24
    return "UTC" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"


def recipient(
    *,
    zone: str | None = None,
    phone: str = "+447700900123",
    language: str = "en",
    channels=("sms",),
    purpose: str = "marketing",
    device: str | None = None,
    platform: str = "fcm",
    **fields,
):
    # By default, somewhere it is midday now: quiet hours never get in the way by accident.
    user = factories.UserFactory(timezone=zone or zone_at_local_hour(12), phone=phone, language=language, **fields)
    for channel in channels:
        opted_in(user, channel, purpose)
    if device:
        with bound(identity(user)):
            services.device_register(user=user, platform=platform, token=device)
    return user


def due_now(*sends: Send) -> None:
    """Make sends due at once (their planned time is in the future in most tests)."""
    Send.objects.filter(pk__in=[s.pk for s in sends]).update(due_at=timezone.now() - dt.timedelta(seconds=1))


def notify(user, *, channels=("sms",), critical=False, kind="order.delivered", body="Your reading is ready"):
    notification = services.notify(
        user_id=user.pk,
        kind=kind,
        title="SAMIA",
        body=body,
        channels=channels,
        critical=critical,
        actor="system:tests",
    )
    return list(notification.sends.order_by("id"))


def events(name: str) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT subject_id, properties FROM events_raw WHERE name = %s ORDER BY id", [name])
        return [{"send_id": row[0], **_json(row[1])} for row in cursor.fetchall()]
