"""The analytics events the domain services would have emitted for the demo rows, derived in SQL,
and the app sessions and horoscope listens the apps would have reported, drawn from a seeded stream.

The demo world is bulk-created, not played through the services; this gives analytics (M23) the
same history. Set-based SQL, one statement per kind of event, from the demo rows' own timestamps.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import random
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.utils import timezone

from samia.accounts.models import Role, User
from samia.accounts.zodiac import Sign
from samia.events.registry import schema_for
from samia.events.services import actor_key
from samia.marketplace.demo.world import DEMO_DOMAIN, World
from samia.marketplace.models import Horoscope

EVENTS_INSERT = (
    "INSERT INTO events_raw (occurred_at, name, version, actor_id, actor_key, subject_type, subject_id, properties) "
)


@transaction.atomic
def events_derive() -> int:
    """Write the events the domain services would have emitted for the demo rows; return how many."""
    demo = f"u.email LIKE '%%@{DEMO_DOMAIN}'"
    order_props = (
        "jsonb_build_object('service', s.code, 'gold', o.is_gold, 'from_status', {source}, "
        "'to_status', {target}, 'reader_id', {reader})"
    )
    orders = (
        "FROM marketplace_order o JOIN marketplace_service s ON s.id = o.service_id "
        f"JOIN accounts_user u ON u.id = o.client_id WHERE {demo}"
    )
    statements = [
        (
            "o.created_at",
            "order.created",
            "o.client_id",
            order_props.format(source="NULL", target="'new'", reader="NULL"),
            "",
        ),
        (
            "o.assigned_at",
            "order.assigned",
            "NULL",
            order_props.format(source="'new'", target="'assigned'", reader="o.reader_id"),
            "o.assigned_at IS NOT NULL",
        ),
        (
            "o.started_at",
            "order.started",
            "o.reader_id",
            order_props.format(source="'assigned'", target="'in_progress'", reader="o.reader_id"),
            "o.started_at IS NOT NULL",
        ),
        (
            "o.submitted_at",
            "order.submitted",
            "o.reader_id",
            order_props.format(source="'in_progress'", target="'awaiting_approval'", reader="o.reader_id"),
            "o.submitted_at IS NOT NULL",
        ),
        (
            "o.decided_at",
            "order.approved",
            "NULL",
            order_props.format(source="'awaiting_approval'", target="'approved'", reader="o.reader_id"),
            "o.decided_at IS NOT NULL AND o.status IN ('approved', 'delivered')",
        ),
        (
            "o.decided_at",
            "order.rejected",
            "NULL",
            order_props.format(source="'awaiting_approval'", target="'rejected'", reader="o.reader_id"),
            "o.decided_at IS NOT NULL AND o.status = 'rejected'",
        ),
        (
            "o.delivered_at",
            "order.delivered",
            "NULL",
            order_props.format(source="'approved'", target="'delivered'", reader="o.reader_id"),
            "o.delivered_at IS NOT NULL",
        ),
        (
            "o.cancelled_at",
            "order.cancelled",
            "o.client_id",
            order_props.format(
                source="CASE WHEN o.reader_id IS NULL THEN 'new' ELSE 'assigned' END",
                target="'cancelled'",
                reader="o.reader_id",
            ),
            "o.cancelled_at IS NOT NULL",
        ),
    ]
    total = 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT min(created_at) FROM marketplace_order")
        oldest = cursor.fetchone()[0]
        months = 0 if oldest is None else (timezone.now().year - oldest.year) * 12 + timezone.now().month - oldest.month
        cursor.execute("SELECT samia.events_ensure_partitions(2, %s)", [months + 1])
        for moment, name, actor, props, condition in statements:
            cursor.execute(
                EVENTS_INSERT + f"SELECT {moment}, '{name}', 1, {actor}, '', 'marketplace.order', o.id, {props} "
                f"{orders}{' AND ' + condition if condition else ''}"
            )
            total += cursor.rowcount
        payments = (
            "FROM marketplace_payment p JOIN marketplace_order o ON o.id = p.order_id "
            f"JOIN accounts_user u ON u.id = o.client_id WHERE {demo}"
        )
        payment_props = (
            "jsonb_build_object('provider', p.provider, 'country', p.country, 'amount', p.amount::text, "
            "'currency', p.currency, 'attempt', p.attempt, 'order_id', p.order_id, 'fallback_of', p.fallback_of_id)"
        )
        for name, condition in [
            ("payment.attempted", "true"),
            ("payment.fallback", "p.fallback_of_id IS NOT NULL"),
            ("payment.succeeded", "p.status IN ('succeeded', 'refunded')"),
            ("payment.failed", "p.status = 'failed'"),
            ("payment.refunded", "p.status = 'refunded'"),
        ]:
            moment = "p.updated_at" if name in ("payment.refunded",) else "p.created_at"
            cursor.execute(
                EVENTS_INSERT + f"SELECT {moment}, '{name}', 1, NULL, '', 'marketplace.payment', p.id, {payment_props} "
                f"{payments} AND {condition}"
            )
            total += cursor.rowcount
        cursor.execute(
            EVENTS_INSERT + "SELECT p.updated_at, 'order.refunded', 1, NULL, '', 'marketplace.order', o.id, "
            "jsonb_strip_nulls(jsonb_build_object('service', s.code, 'gold', o.is_gold, 'reader_id', o.reader_id,"
            " 'payment_id', p.id)) "
            f"{payments.replace('JOIN accounts_user', 'JOIN marketplace_service s ON s.id = o.service_id JOIN accounts_user')}"
            " AND p.status = 'refunded'"
        )
        total += cursor.rowcount
        calls = f"FROM marketplace_call c JOIN accounts_user u ON u.id = c.client_id WHERE {demo}"
        for name, moment, condition in [
            ("call.scheduled", "c.scheduled_at", "true"),
            ("call.answered", "c.answered_at", "c.answered_at IS NOT NULL"),
            ("call.dropped", "c.ended_at", "c.status = 'dropped' AND c.ended_at IS NOT NULL"),
            ("call.ended", "c.ended_at", "c.status = 'ended' AND c.ended_at IS NOT NULL"),
        ]:
            cursor.execute(
                EVENTS_INSERT + f"SELECT {moment}, '{name}', 1, NULL, '', 'marketplace.call', c.id, "
                "jsonb_strip_nulls(jsonb_build_object('reader_id', c.reader_id, 'order_id', c.order_id, "
                "'dropped_by', NULLIF(c.dropped_by, '')))"
                f" {calls} AND {condition}"
            )
            total += cursor.rowcount
    return total


#
# Engagement: app sessions and horoscope listens
#

ENGAGEMENT_DAYS = 180  # of sessions before the anchor: the raw-event retention's default
# (weight, platform, the versions in use, oldest first): most users run the latest release.
PLATFORMS = [
    (45, "ios", ("3.3.2", "3.4.0", "3.4.1")),
    (45, "android", ("3.3.1", "3.4.0", "3.4.1")),
    (10, "web", ("2026.2",)),
]
# (weight, daily chance of opening the app): a few heavy users, many regular and light ones.
HABITS = [(20, 0.55, 0.85), (45, 0.2, 0.45), (35, 0.04, 0.15)]
# Local weekday factors, Monday first: the Gulf weekend (Friday, Saturday) is the busiest.
WEEKDAYS = (0.85, 0.85, 0.9, 1.05, 1.3, 1.2, 0.95)
# Local hours of opening the app: a morning peak and a larger evening one.
HOURS = (1, 0, 0, 0, 0, 1, 3, 6, 8, 6, 4, 4, 5, 4, 3, 3, 4, 5, 7, 9, 10, 9, 6, 3)
EARLY_ADOPTERS = 0.4  # share of users who used the app from the first counted day
DORMANT_SHARE = 0.12  # users whose last session is more than 30 days old
ANONYMOUS_DEVICES_PER_SCALE = 5  # devices without an account that listen to the public horoscopes
AUDIO_SECONDS = 90  # a daily horoscope's recording
COLUMNS = "occurred_at, name, version, actor_id, actor_key, subject_type, subject_id, properties"


def _listen(rng: random.Random, when: dt.datetime, horoscope: tuple[int, str], actor_id, key: str) -> tuple:
    percent = 100 if rng.random() < 0.5 else rng.randint(90, 99) if rng.random() < 0.3 else rng.randint(5, 89)
    properties = {"sign": horoscope[1], "percent": percent, "horoscope_id": horoscope[0]}
    properties["seconds"] = AUDIO_SECONDS * percent // 100
    clean = schema_for("horoscope.listened", 2).validate(properties)
    return (when, "horoscope.listened", 2, actor_id, key, "marketplace.horoscope", horoscope[0], json.dumps(clean))


def _user_events(rng: random.Random, user: User, world: World, horoscopes: dict) -> list[tuple]:
    """Return one user's sessions (and the listens in them) from their first day to the anchor."""
    platform, versions = rng.choices([p[1:] for p in PLATFORMS], [p[0] for p in PLATFORMS])[0]
    low, high = rng.choices([h[1:] for h in HABITS], [h[0] for h in HABITS])[0]
    habit = rng.uniform(low, high)
    sign = user.zodiac_sign or rng.choice(Sign.values)
    zone = ZoneInfo(user.timezone)
    # The app's sessions are counted from ENGAGEMENT_DAYS ago; most users took it up some time after, so
    # new cohorts keep arriving every week (the retention matrix), as do the users who join.
    launch = world.anchor - dt.timedelta(days=ENGAGEMENT_DAYS)
    adopted = (
        launch if rng.random() < EARLY_ADOPTERS else launch + dt.timedelta(days=rng.uniform(0, ENGAGEMENT_DAYS - 7))
    )
    first = max(user.created_at, adopted)
    last = world.anchor
    if rng.random() < DORMANT_SHARE:
        last -= dt.timedelta(days=rng.randint(31, 120))
    if user.blocked_at:
        last = min(last, user.blocked_at)
    rows = []
    day = first.astimezone(zone).date()
    while day <= last.astimezone(zone).date():
        age = (day - first.astimezone(zone).date()).days
        # New users open the app more in their first weeks, then settle into their habit.
        chance = min(0.95, habit * (1 + 1.5 * math.exp(-age / 10)) * WEEKDAYS[day.weekday()])
        if rng.random() < chance:
            hours = sorted(set(rng.choices(range(24), HOURS, k=1 + (rng.random() < 0.35) + (rng.random() < 0.12))))
            version = versions[min(len(versions) - 1, int(rng.random() * len(versions) * 1.5))]
            moments = [dt.datetime.combine(day, dt.time(h, rng.randrange(30)), tzinfo=zone) for h in hours]
            moments = [m for m in moments if first <= m < last]
            for moment in moments:
                properties = {"platform": platform, "app_version": version, "country": user.country}
                properties["language"] = user.language
                clean = json.dumps(schema_for("app.session", 2).validate(properties))
                rows.append((moment, "app.session", 2, user.pk, "", "", None, clean))
            horoscope = horoscopes.get((sign, day))
            if moments and horoscope and rng.random() < 0.6:
                rows.append(_listen(rng, moments[0] + dt.timedelta(minutes=rng.randint(1, 5)), horoscope, user.pk, ""))
        day += dt.timedelta(days=1)
    return rows


@transaction.atomic
def engagement_events_create(world: World, *, scale: int) -> int:
    """Write the demo users' app sessions and horoscope listens, and anonymous devices' listens; return how many."""
    rng = random.Random(f"{world.seed}:engagement")
    users = User.objects.filter(email__endswith=f"@{DEMO_DOMAIN}", role__in=[Role.CLIENT, Role.READER])
    approved = Horoscope.objects.filter(
        approved_by__email__endswith=f"@{DEMO_DOMAIN}", approval_status=Horoscope.Approval.APPROVED
    )
    horoscopes = {(h.sign, h.date): (h.pk, h.sign) for h in approved}
    rows = []
    for user in users.order_by("email"):
        rows += _user_events(rng, user, world, horoscopes)
    riyadh = ZoneInfo("Asia/Riyadh")
    for number in range(ANONYMOUS_DEVICES_PER_SCALE * scale):
        key = actor_key(f"demo-device-{world.seed}-{number}")
        favourite = rng.choice(Sign.values)
        for (sign, day), horoscope in sorted(horoscopes.items()):
            if sign != favourite or rng.random() < 0.55:
                continue
            moment = dt.datetime.combine(day, dt.time(rng.choices(range(24), HOURS)[0], rng.randrange(60)), riyadh)
            if moment < world.anchor:
                rows.append(_listen(rng, moment, horoscope, None, key))
    now, oldest = timezone.now(), min((row[0] for row in rows), default=world.anchor).astimezone(dt.UTC)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT samia.events_ensure_partitions(2, %s)", [(now.year - oldest.year) * 12 + now.month - oldest.month]
        )
        with cursor.cursor.copy(f"COPY events_raw ({COLUMNS}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    return len(rows)
