"""Demo data for the notifications back office: consents, devices, a draft and a paused campaign, a suppression.

Seeded once on seed_demo's world (after that the campaigns and suppressions are the staff's to work)
and deterministic; it only touches the demo accounts (@demo.samia.test). Nothing is sent by seeding:
providers start unconfigured, so the sends it plans stay visibly deferred until credentials (or
NOTIFICATIONS_SANDBOX=1) are set. `--delete` removes every notifications row of the demo accounts
(seed_demo --reset runs it first); their audit entries stay, the trail is append-only.
"""

import datetime as dt

from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.utils import timezone

from notifications import planning, services
from notifications.models import Campaign, Consent, DeviceToken, Suppression
from samia.accounts.models import User
from samia.rls.binding import bound
from samia.rls.registry import Identity

DEMO_DOMAIN = "demo.samia.test"
ACTOR = "system:seed_notifications"
DRAFT = "Demo: full moon offer"
PAUSED = "Demo: Ramadan evenings"

_USERS = "SELECT id FROM accounts_user WHERE email LIKE %(pattern)s"
_CAMPAIGNS = f"SELECT id FROM notifications_campaign WHERE created_by_id IN ({_USERS})"
_NOTIFICATIONS = f"SELECT id FROM notifications_notification WHERE user_id IN ({_USERS})"
_SENDS = (
    f"SELECT id FROM notifications_send WHERE user_id IN ({_USERS}) OR campaign_id IN ({_CAMPAIGNS}) "
    f"OR notification_id IN ({_NOTIFICATIONS})"
)
DELETE = [
    (
        "events",
        f"DELETE FROM events_raw WHERE subject_type = 'notifications.send' AND subject_id IN ({_SENDS})",
    ),
    ("bounces", f"DELETE FROM notifications_bounce WHERE send_id IN ({_SENDS})"),
    ("sends", f"DELETE FROM notifications_send WHERE id IN ({_SENDS})"),
    ("notifications", f"DELETE FROM notifications_notification WHERE id IN ({_NOTIFICATIONS})"),
    ("campaigns", f"DELETE FROM notifications_campaign WHERE id IN ({_CAMPAIGNS})"),
    ("audiences", f"DELETE FROM notifications_audience WHERE created_by_id IN ({_USERS})"),
    ("suppressions", f"DELETE FROM notifications_suppression WHERE user_id IN ({_USERS})"),
    ("consents", f"DELETE FROM notifications_consent WHERE user_id IN ({_USERS})"),
    ("devices", f"DELETE FROM notifications_devicetoken WHERE user_id IN ({_USERS})"),
]


class Command(BaseCommand):
    help = "Seed demo consents, devices, campaigns (one draft, one paused), a suppression and a few notifications."

    def add_arguments(self, parser):
        parser.add_argument(
            "--delete", action="store_true", help="Delete the demo accounts' notifications rows and stop."
        )

    def handle(self, *args, delete, **options):
        if delete:
            self.stdout.write("Removed the notifications demo: " + ", ".join(f"{n} {k}" for k, n in demo_delete()))
            return
        demo = User.objects.filter(email__endswith=f"@{DEMO_DOMAIN}")
        clients = list(demo.filter(role="client").order_by("id"))
        admin = demo.filter(email=f"admin@{DEMO_DOMAIN}").first()
        if not clients or admin is None:
            self.stdout.write("No demo users: run seed_demo first.")
            return
        if Campaign.objects.filter(name=DRAFT, created_by__in=demo).exists():
            self.stdout.write("Notifications demo already seeded; seed_demo --reset rebuilds it.")
            return
        with transaction.atomic():
            consents = self.consents_and_devices_create(clients)
            self.campaigns_create(Identity.of(admin), admin)
            self.suppression_create(Identity.of(admin), clients)
            for user in clients[:3]:
                services.notify(
                    user_id=user.pk,
                    kind="account.welcome",
                    title="Welcome to SAMIA",
                    body="Your first reading is one tap away.",
                    actor=ACTOR,
                    dedupe=f"demo-welcome:{user.pk}",
                )
        paused = Campaign.objects.get(name=PAUSED, created_by=admin)
        self.stdout.write(
            f"Notifications demo: {consents} consents, {len(clients)} devices, a draft campaign, a paused one "
            f"({paused.planned_count} sends held), a suppression, 3 welcome pushes planned."
        )

    def consents_and_devices_create(self, clients: list[User]) -> int:
        """Record the clients' push consents and register one device each; return how many consents."""
        consents = 0
        for index, user in enumerate(clients):
            # Every other client agreed to offers by push, every third to the daily horoscope.
            for purpose, wanted in (("marketing", index % 2 == 0), ("zodiac", index % 3 == 0)):
                if wanted and not Consent.objects.filter(user=user, channel="push", purpose=purpose).exists():
                    services.consent_record(
                        user_id=user.pk, channel="push", purpose=purpose, granted=True, source="import", actor=ACTOR
                    )
                    consents += 1
            DeviceToken.objects.get_or_create(
                platform="fcm" if index % 4 else "apns", token=f"demo-device-{user.pk:06d}", defaults={"user": user}
            )
        return consents

    def campaigns_create(self, identity: Identity, admin: User) -> None:
        """Create the draft campaign, and one scheduled then paused through the planning services."""
        today = timezone.now().date()
        with bound(identity):
            planning.campaign_create(
                identity=identity,
                data={
                    "name": DRAFT,
                    "channel": "push",
                    "audience": {"name": "Demo: clients", "roles": ["client"]},
                    "templates": {
                        "en": {"title": "Full moon tonight", "body": "A full moon reading, 20% off until Sunday."},
                        "ar": {"title": "البدر الليلة", "body": "قراءة البدر بخصم ٢٠٪ حتى الأحد."},
                    },
                    "send_on": today + dt.timedelta(days=7),
                    "local_time": dt.time(11, 0),
                },
            )
            paused = planning.campaign_create(
                identity=identity,
                data={
                    "name": PAUSED,
                    "channel": "push",
                    "audience": {"name": "Demo: Arabic-speaking clients", "roles": ["client"], "languages": ["ar"]},
                    "templates": {
                        "en": {"title": "Evening readings", "body": "Readers are online after iftar all week."},
                        "ar": {"title": "قراءات المساء", "body": "القارئات متاحات بعد الإفطار طوال الأسبوع."},
                    },
                    "send_on": today + dt.timedelta(days=3),
                    "local_time": dt.time(19, 30),
                },
            )
            planning.campaign_schedule(identity=identity, campaign_id=paused.pk)
            planning.campaign_pause(identity=identity, campaign_id=paused.pk, pause=True)

    def suppression_create(self, identity: Identity, clients: list[User]) -> None:
        """Suppress SMS to one client who asked for it, as the demo admin."""
        asked = next(c for c in clients[1:] if c.phone)  # client1 is the login account
        with bound(identity):
            services.suppression_add(
                channel="sms",
                reason=Suppression.Reason.MANUAL,
                actor=identity,
                user_id=asked.pk,
                note="Asked by phone.",
            )


@transaction.atomic
def demo_delete() -> list[tuple[str, int]]:
    """Delete the demo accounts' notifications rows, and the campaigns they created with their sends."""
    removed = []
    with connection.cursor() as cursor:
        for name, statement in DELETE:
            cursor.execute(statement, {"pattern": f"%@{DEMO_DOMAIN}"})
            removed.append((name, cursor.rowcount))
    return removed
