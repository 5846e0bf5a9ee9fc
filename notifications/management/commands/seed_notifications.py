"""Demo data for the notifications back office: consents, devices, a draft campaign, a few sends.

Idempotent and deterministic; it only touches the demo accounts (@demo.samia.test). Nothing is
sent by seeding: providers start unconfigured, so the sends it plans stay visibly deferred until
credentials (or NOTIFICATIONS_SANDBOX=1) are set.
"""

import datetime as dt

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from notifications import services
from notifications.models import Audience, Campaign, Consent, DeviceToken, Send
from samia.accounts.models import User

DEMO_DOMAIN = "demo.samia.test"
ACTOR = "system:seed_notifications"


class Command(BaseCommand):
    help = "Seed demo consents, device tokens, a draft campaign and a few notifications for the demo users."

    def handle(self, *args, **options):
        clients = list(
            User.objects.filter(email__endswith=f"@{DEMO_DOMAIN}", role="client")
            .order_by("id")
            .values_list("id", flat=True)
        )
        admin = User.objects.filter(email__endswith=f"@{DEMO_DOMAIN}", role="admin").order_by("id").first()
        if not clients or admin is None:
            self.stdout.write("No demo users: run seed_demo first.")
            return
        with transaction.atomic():
            consents = devices = 0
            for index, user_id in enumerate(clients):
                # Every other client agreed to offers by push, every third to the daily horoscope.
                for purpose, wanted in (("marketing", index % 2 == 0), ("zodiac", index % 3 == 0)):
                    if wanted and not Consent.objects.filter(user_id=user_id, channel="push", purpose=purpose).exists():
                        services.consent_record(
                            user_id=user_id, channel="push", purpose=purpose, granted=True, source="import", actor=ACTOR
                        )
                        consents += 1
                _, created = DeviceToken.objects.get_or_create(
                    platform="fcm" if index % 4 else "apns",
                    token=f"demo-device-{user_id:06d}",
                    defaults={"user_id": user_id},
                )
                devices += created
            if not Campaign.objects.filter(name="Demo: full moon offer").exists():
                audience = Audience.objects.create(name="Demo: clients", roles=["client"], created_by=admin)
                Campaign.objects.create(
                    name="Demo: full moon offer",
                    channel="push",
                    audience=audience,
                    templates={
                        "en": {"title": "Full moon tonight", "body": "A full moon reading, 20% off until Sunday."},
                        "ar": {"title": "البدر الليلة", "body": "قراءة البدر بخصم ٢٠٪ حتى الأحد."},
                    },
                    send_on=timezone.now().date() + dt.timedelta(days=7),
                    local_time=dt.time(11, 0),
                    created_by=admin,
                )
            notified = 0
            for user_id in clients[:3]:
                if not Send.objects.filter(dedupe_key=f"demo-welcome:{user_id}:push").exists():
                    services.notify(
                        user_id=user_id,
                        kind="account.welcome",
                        title="Welcome to SAMIA",
                        body="Your first reading is one tap away.",
                        actor=ACTOR,
                        dedupe=f"demo-welcome:{user_id}",
                    )
                    notified += 1
        self.stdout.write(
            f"Notifications demo: {consents} consents, {devices} devices, a draft campaign, {notified} welcome pushes planned."
        )
