"""Seed a deterministic demo world: every role, every order state, calls, payments with fallbacks, horoscopes."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.contrib.admin.models import LogEntry
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError, connection, reset_queries, transaction
from django.db.models import Count
from django.utils import timezone
from tqdm import tqdm

from samia.accounts.models import Language, Role, User
from samia.accounts.zodiac import Sign, sign_for, sign_name
from samia.marketplace.models import Call, Horoscope, MediaAsset, Order, Payment, Service
from samia.marketplace.states import HELD
from samia.marketplace.states import OrderStatus as S

DEMO_DOMAIN = "demo.samia.test"
EVENTS_INSERT = (
    "INSERT INTO events_raw (occurred_at, name, version, actor_id, actor_key, subject_type, subject_id, properties) "
)
DEMO_PASSWORD = "demo-password-2026"
ORDERS_PER_SCALE = 500
MAX_CLIENTS = 50_000
BATCH_SIZE = 5000
GOLD_SHARE = 0.12
GOLD_SURCHARGE = Decimal("1.5")
FALLBACK_SHARE = 0.06
HOROSCOPE_DAYS = range(-7, 2)  # a week back, today and tomorrow
CENT = Decimal("0.01")
HOUR = 3600
DAY = 24 * HOUR

# Country, IANA zone, phone pattern (each x a digit), share of Arabic names, weight among users.
# Phones in GB and North America use the ranges reserved for fiction.
COUNTRIES = [
    ("SA", "Asia/Riyadh", "+9665xxxxxxxx", 1.0, 30),
    ("AE", "Asia/Dubai", "+9715xxxxxxxx", 0.8, 14),
    ("EG", "Africa/Cairo", "+201xxxxxxxxx", 1.0, 12),
    ("KW", "Asia/Kuwait", "+9656xxxxxxx", 1.0, 8),
    ("QA", "Asia/Qatar", "+9743xxxxxxx", 0.9, 5),
    ("JO", "Asia/Amman", "+9627xxxxxxxx", 1.0, 5),
    ("MA", "Africa/Casablanca", "+2126xxxxxxxx", 0.9, 6),
    ("GB", "Europe/London", "+447700900xxx", 0.4, 7),
    ("FR", "Europe/Paris", "+336xxxxxxxx", 0.4, 5),
    ("US", "America/New_York", "+121255501xx", 0.3, 6),
    ("CA", "America/Toronto", "+141655501xx", 0.3, 2),
]
ARABIC_NAMES = (
    (
        "Noura",
        "Layla",
        "Fatima",
        "Mariam",
        "Sara",
        "Huda",
        "Reem",
        "Aisha",
        "Salma",
        "Hessa",
        "Omar",
        "Khalid",
        "Youssef",
    ),
    ("Al-Harbi", "Al-Qahtani", "Al-Otaibi", "Haddad", "Mansour", "Nasser", "El-Sayed", "Khoury", "Benali", "Darwish"),
)
WESTERN_NAMES = (
    ("Emma", "Olivia", "Sophie", "Chloe", "Amelia", "Grace", "Hannah", "Camille", "Mia", "James", "Lucas", "Daniel"),
    ("Smith", "Johnson", "Brown", "Taylor", "Wilson", "Evans", "Clarke", "Martin", "Bernard", "Dubois", "Moreau"),
)

# Code: (base price, premium, share of orders).
SERVICES = {
    Service.Code.TAROT: (Decimal("25.00"), False, 35),
    Service.Code.COFFEE: (Decimal("20.00"), False, 20),
    Service.Code.ASTRO: (Decimal("35.00"), False, 15),
    Service.Code.HEALING: (Decimal("45.00"), True, 10),
    Service.Code.DIRECT_CALL: (Decimal("60.00"), True, 20),
}
QUESTIONS = {
    Service.Code.TAROT: [
        ("What does the coming month hold for my career?", "ماذا يخبئ لي الشهر القادم في عملي؟"),
        ("Is this relationship right for me?", "هل هذه العلاقة مناسبة لي؟"),
        ("Should I accept the job offer abroad?", "هل أقبل عرض العمل في الخارج؟"),
    ],
    Service.Code.COFFEE: [
        ("Please read my cup; I photographed it this morning.", "أرجو قراءة فنجاني، صورته هذا الصباح."),
        ("What do the shapes near the rim mean?", "ماذا تعني الأشكال قرب حافة الفنجان؟"),
    ],
    Service.Code.ASTRO: [
        ("What does my birth chart say about this year?", "ماذا تقول خريطتي الفلكية عن هذه السنة؟"),
        ("Is next month a good time to move house?", "هل الشهر القادم وقت مناسب للانتقال؟"),
    ],
    Service.Code.HEALING: [
        (
            "I feel blocked and tired; can you help me find balance?",
            "أشعر بالتعب والجمود، هل تساعدني على استعادة توازني؟",
        ),
        ("Energy cleansing before an important exam.", "تنظيف الطاقة قبل امتحان مهم."),
    ],
    Service.Code.DIRECT_CALL: [
        ("I would like to talk about my family situation.", "أود التحدث عن وضعي العائلي."),
        ("A live reading about a decision I must make this week.", "قراءة مباشرة عن قرار يجب أن أتخذه هذا الأسبوع."),
    ],
}
REJECTIONS = (
    "The reading does not answer the client's question.",
    "The audio is too noisy to deliver.",
    "Remove the medical advice before delivery.",
    "Too short for a premium service; please expand.",
)

ORDER_STATUSES = [s for s in S if s not in HELD]  # moderation holds are not seeded
STATUS_WEIGHTS = {
    S.NEW: 8,
    S.ASSIGNED: 7,
    S.IN_PROGRESS: 7,
    S.AWAITING_APPROVAL: 8,
    S.APPROVED: 5,
    S.REJECTED: 5,
    S.DELIVERED: 45,
    S.CANCELLED: 15,
}
# Orders still moving are recent; finished ones spread over the year.
AGE_DAYS = {S.NEW: 2, S.DELIVERED: 365, S.CANCELLED: 365}
STAMPS = ("assigned_at", "started_at", "submitted_at", "decided_at", "delivered_at")
STEP_SECONDS = {  # time since the previous stamp
    "assigned_at": (5 * 60, 6 * HOUR),
    "started_at": (10 * 60, DAY),
    "submitted_at": (30 * 60, 2 * DAY),
    "decided_at": (10 * 60, 12 * HOUR),
    "delivered_at": (60, 2 * HOUR),
    "cancelled_at": (60, DAY),
}
REACHED = {  # how many of STAMPS each status has reached
    S.NEW: 0,
    S.ASSIGNED: 1,
    S.IN_PROGRESS: 2,
    S.AWAITING_APPROVAL: 3,
    S.APPROVED: 4,
    S.REJECTED: 4,
    S.DELIVERED: 5,
}
# Room after the last stamp so that a call still running ends before the anchor.
TAIL_SECONDS = 2 * HOUR
DROP_REASONS = {
    Call.Party.CLIENT: "client_disconnected",
    Call.Party.READER: "reader_disconnected",
    Call.Party.SYSTEM: "network_lost",
}

HOROSCOPE_LINES = [
    ("A conversation you have been avoiding brings relief.", "حديث كنت تؤجله يجلب لك الارتياح."),
    (
        "Money matters need patience today; wait before signing.",
        "الأمور المالية تحتاج إلى الصبر اليوم، تمهل قبل التوقيع.",
    ),
    ("An old friend reaches out with good news.", "صديق قديم يتواصل معك بأخبار سارة."),
    ("Your energy is high: start the project you postponed.", "طاقتك مرتفعة، ابدأ المشروع الذي أجلته."),
    ("Listen more than you speak at work.", "استمع أكثر مما تتكلم في العمل."),
    ("A short trip or a change of scene clears your mind.", "رحلة قصيرة أو تغيير المكان يصفي ذهنك."),
    ("Your family needs your attention this evening.", "عائلتك تحتاج إلى اهتمامك هذا المساء."),
    ("Trust your intuition in matters of the heart.", "ثق بحدسك في أمور القلب."),
    ("Rest well; tomorrow asks for a clear head.", "خذ قسطا من الراحة، فالغد يحتاج إلى ذهن صاف."),
    ("A creative idea deserves to be written down.", "فكرة مبدعة تستحق أن تدونها."),
]


def population(scale: int) -> dict[str, int]:
    """Return how many users of each role a world of this scale has; clients grow linearly, staff slowly."""
    return {
        Role.SUPERADMIN: 1,
        Role.ADMIN: 2 + scale // 200,
        Role.MONITOR: 2 + scale // 100,
        Role.READER: 10 + scale // 4,
        Role.CLIENT: min(45 * scale, MAX_CLIENTS),
    }


def demo_email(role: str, number: int) -> str:
    """Return the demo address of the number-th user of a role: admin@, admin2@, reader1@, client1@ ..."""
    suffix = "" if role not in (Role.READER, Role.CLIENT) and number == 1 else str(number)
    return f"{role}{suffix}@{DEMO_DOMAIN}"


def seconds(value: int) -> dt.timedelta:
    return dt.timedelta(seconds=value)


class World:
    """Draws users, orders, payments and calls from one seeded random stream per phase."""

    def __init__(self, *, seed: int, anchor: dt.datetime):
        self.seed = seed
        self.anchor = anchor
        self.rng = random.Random(f"{seed}:orders")
        self.clients: list[User] = []
        self.readers: list[User] = []
        self.services: list[Service] = []

    def users(self, *, scale: int) -> list[User]:
        rng = random.Random(f"{self.seed}:users")
        password = make_password(DEMO_PASSWORD)  # hashed once: the same hash serves every demo account
        countries = [c[:4] for c in COUNTRIES]
        weights = [c[4] for c in COUNTRIES]
        users = []
        for role, count in population(scale).items():
            # Readers and staff predate the year of orders; clients keep joining.
            oldest, newest = (1000, 400) if role != Role.CLIENT else (900, 15)
            for number in range(1, count + 1):
                country, zone, phone_pattern, arabic_share = rng.choices(countries, weights)[0]
                arabic = rng.random() < arabic_share
                first_names, last_names = ARABIC_NAMES if arabic else WESTERN_NAMES
                birth = (
                    dt.date(1960, 1, 1) + dt.timedelta(days=rng.randrange(45 * 365)) if rng.random() < 0.85 else None
                )
                phone = "".join(str(rng.randrange(10)) if ch == "x" else ch for ch in phone_pattern)
                blocked = role == Role.CLIENT and number > 1 and rng.random() < 0.01
                users.append(
                    User(
                        email=demo_email(role, number),
                        password=password,
                        role=role,
                        first_name=rng.choice(first_names),
                        last_name=rng.choice(last_names),
                        phone=phone if rng.random() < 0.6 else "",
                        country=country,
                        timezone=zone,
                        language=Language.ARABIC if arabic and rng.random() < 0.75 else Language.ENGLISH,
                        date_of_birth=birth,
                        zodiac_sign=sign_for(birth) if birth else "",  # bulk_create skips User.save()
                        blocked_at=self.anchor - seconds(rng.randrange(DAY, 30 * DAY)) if blocked else None,
                        created_at=self.anchor - seconds(rng.randrange(newest * DAY, oldest * DAY)),
                    )
                )
        return users

    def order(self, index: int) -> tuple[Order, list[Payment], list[Payment], list[Call]]:
        """Return the index-th order with its first payment attempts, fallback attempts and calls."""
        rng = self.rng
        # The first orders walk through every status so that even the smallest world shows them all.
        if index < len(ORDER_STATUSES):
            status = ORDER_STATUSES[index]
        else:
            status = rng.choices(ORDER_STATUSES, [STATUS_WEIGHTS[s] for s in ORDER_STATUSES])[0]
        service = rng.choices(self.services, [SERVICES[s.code][2] for s in self.services])[0]
        client = self.clients[int(len(self.clients) * rng.random() ** 1.2)]  # a few clients order a lot
        # A cancellation happens while the order is new, or once it is assigned.
        reached = int(rng.random() < 0.4) if status == S.CANCELLED else REACHED[status]
        names = list(STAMPS[:reached]) + (["cancelled_at"] if status == S.CANCELLED else [])
        steps = [rng.randint(*STEP_SECONDS[name]) for name in names]
        if service.code == Service.Code.DIRECT_CALL and reached >= 3:
            steps[2] += HOUR  # the call happens between start and submission
        latest = self.anchor - seconds(sum(steps) + TAIL_SECONDS)
        span = min(AGE_DAYS.get(status, 14) * DAY, int((latest - client.created_at).total_seconds()))
        created = latest - seconds(rng.randrange(span))
        stamps, moment = {}, created
        for name, step in zip(names, steps, strict=True):
            moment += seconds(step)
            stamps[name] = moment
        question = rng.choice(QUESTIONS[service.code])[client.language == Language.ARABIC]
        order = Order(
            client=client,
            service=service,
            reader=rng.choice(self.readers) if reached else None,
            question=question,
            is_gold=rng.random() < GOLD_SHARE,
            status=status,
            rejection_reason=rng.choice(REJECTIONS) if status == S.REJECTED else "",
            created_at=created,
            **stamps,
        )
        first, fallbacks = self.payments(order)
        calls = self.calls(order) if service.code == Service.Code.DIRECT_CALL else []
        return order, first, fallbacks, calls

    def payment_outcome(self, order: Order) -> str:
        rng = self.rng
        if order.status == S.NEW:
            return Payment.Status.SUCCEEDED if rng.random() < 0.7 else Payment.Status.PENDING
        if order.status == S.CANCELLED:
            if order.reader is None and rng.random() < 0.5:
                return Payment.Status.FAILED  # the charge failed, so the order was cancelled
            return Payment.Status.REFUNDED
        if order.status == S.DELIVERED and rng.random() < 0.03:
            return Payment.Status.REFUNDED
        return Payment.Status.SUCCEEDED

    def reference(self, provider: str) -> str:
        if provider == Payment.Provider.STRIPE:
            return f"pi_{self.rng.getrandbits(96):024x}"
        if provider == Payment.Provider.SQUARE:
            return f"sq_{self.rng.getrandbits(88):022X}"
        return f"manual-{self.rng.randrange(10**8):08d}"

    def payments(self, order: Order) -> tuple[list[Payment], list[Payment]]:
        rng = self.rng
        amount = order.service.base_price * (GOLD_SURCHARGE if order.is_gold else 1)
        fields = {
            "order": order,
            "country": order.client.country,
            "amount": amount.quantize(CENT),
            "currency": order.service.currency,
        }
        outcome = self.payment_outcome(order)
        paid_at = order.created_at + seconds(rng.randint(5, 60))
        if rng.random() < FALLBACK_SHARE:
            failed = Payment(
                provider=Payment.Provider.STRIPE,
                status=Payment.Status.FAILED,
                attempt=1,
                provider_reference=self.reference(Payment.Provider.STRIPE),
                created_at=paid_at,
                **fields,
            )
            retry = Payment(
                provider=Payment.Provider.SQUARE,
                status=outcome,
                attempt=2,
                fallback_of=failed,
                provider_reference=self.reference(Payment.Provider.SQUARE),
                created_at=paid_at + seconds(rng.randint(60, 300)),
                **fields,
            )
            return [failed], [retry]
        provider = rng.choices(list(Payment.Provider), [85, 13, 2])[0]
        payment = Payment(
            provider=provider,
            status=outcome,
            attempt=1,
            provider_reference=self.reference(provider),
            created_at=paid_at,
            **fields,
        )
        return [payment], []

    def calls(self, order: Order) -> list[Call]:
        rng = self.rng
        if order.started_at is None:
            if order.status != S.ASSIGNED:
                return []
            when = order.assigned_at + seconds(rng.randint(HOUR, 2 * DAY))
            return [Call(order=order, client=order.client, reader=order.reader, scheduled_at=when)]
        calls = []
        start = order.started_at
        if order.submitted_at is None:
            outcome = rng.choices([Call.Status.RINGING, Call.Status.ANSWERED, Call.Status.ENDED], [1, 1, 2])[0]
        else:
            outcome = Call.Status.ENDED
        if outcome == Call.Status.ENDED and rng.random() < 0.25:
            trouble = Call(order=order, client=order.client, reader=order.reader, scheduled_at=start)
            if rng.random() < 0.6:
                trouble.status = Call.Status.DROPPED
                trouble.answered_at = start + seconds(rng.randint(10, 60))
                trouble.ended_at = trouble.answered_at + seconds(rng.randint(30, 300))
                trouble.dropped_by = rng.choice(list(Call.Party))
                trouble.end_reason = DROP_REASONS[trouble.dropped_by]
            else:
                trouble.status = Call.Status.FAILED
                trouble.ended_at = start + seconds(rng.randint(30, 60))
                trouble.end_reason = rng.choice(["no_answer", "provider_error"])
            calls.append(trouble)
            start = trouble.ended_at + seconds(rng.randint(60, 300))
        call = Call(order=order, client=order.client, reader=order.reader, status=outcome, scheduled_at=start)
        if outcome != Call.Status.RINGING:
            call.answered_at = start + seconds(rng.randint(10, 60))
        if outcome == Call.Status.ENDED:
            call.ended_at = call.answered_at + seconds(rng.randint(5 * 60, 40 * 60))
            call.end_reason = "completed"
        calls.append(call)
        return calls

    def horoscopes(self, approvers: list[User]) -> list[Horoscope]:
        rng = random.Random(f"{self.seed}:horoscopes")
        today = self.anchor.date()
        rows = []
        for offset in HOROSCOPE_DAYS:
            date = today + dt.timedelta(days=offset)
            # Written two days ahead, approved a few hours later, all before the anchor.
            written = self.anchor + dt.timedelta(days=offset - 2) + seconds(rng.randint(6 * HOUR, 12 * HOUR))
            for sign in Sign:
                lines = rng.sample(HOROSCOPE_LINES, 2)
                pending = rng.random() < (0.4 if offset > 0 else 0.1)
                rows.append(
                    Horoscope(
                        sign=sign,
                        date=date,
                        text_en=f"{sign.label}: {lines[0][0]} {lines[1][0]}",
                        text_ar=f"{sign_name(sign, Language.ARABIC)}: {lines[0][1]} {lines[1][1]}",
                        approval_status=Horoscope.Approval.PENDING if pending else Horoscope.Approval.APPROVED,
                        approved_by=None if pending else rng.choice(approvers),
                        approved_at=None if pending else written + seconds(rng.randint(30 * 60, 6 * HOUR)),
                        created_at=written,
                    )
                )
        return rows


class Command(BaseCommand):
    help = "Seed a deterministic demo world (users @demo.samia.test, orders, calls, payments, horoscopes)."

    def add_arguments(self, parser):
        parser.add_argument("--scale", type=int, default=1, help="About 500 orders per unit (default 1).")
        parser.add_argument("--seed", type=int, default=42, help="Random seed (default 42).")
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Delete the demo users and their rows (and horoscopes they approved) first, then seed again.",
        )
        parser.add_argument(
            "--today", type=dt.date.fromisoformat, default=None, help="Anchor date, YYYY-MM-DD (default: today, UTC)."
        )

    def handle(self, *args, scale, seed, reset, today, verbosity, **options):
        if scale < 1:
            raise CommandError("--scale must be at least 1.")
        # The one reading of the clock: midnight UTC today keeps the data recent and a day's runs identical.
        anchor = dt.datetime.combine(today or timezone.now().date(), dt.time(), tzinfo=dt.UTC)
        world = World(seed=seed, anchor=anchor)
        expected = (sum(population(scale).values()), ORDERS_PER_SCALE * scale)

        if reset:
            removed = self.demo_world_delete()
            self.stdout.write(f"Removed the demo world: {removed[0]} users, {removed[1]} orders.")
        existing = self.demo_world_size()
        if existing == expected:
            self.stdout.write(
                f"Demo world already seeded ({existing[0]} users, {existing[1]} orders); run with --reset to rebuild it."
            )
        elif existing != (0, 0):
            raise CommandError(
                f"A demo world of another scale, or a partial one, exists ({existing[0]} users, {existing[1]} orders; "
                f"scale {scale} has {expected[0]} and {expected[1]}). Run with --reset to replace it."
            )
        with transaction.atomic():
            self.services_ensure(world)
        if existing == (0, 0):
            with transaction.atomic():
                users = User.objects.bulk_create(world.users(scale=scale), batch_size=BATCH_SIZE)
            world.clients = [u for u in users if u.role == Role.CLIENT]
            world.readers = [u for u in users if u.role == Role.READER]
            with transaction.atomic():
                self.orders_create(world, total=expected[1], quiet=verbosity == 0)
            with transaction.atomic():
                events = self.events_derive()
            self.stdout.write(f"Derived {events} analytics events from the demo orders, payments and calls.")
        with transaction.atomic():
            approvers = list(
                User.objects.filter(email__endswith=f"@{DEMO_DOMAIN}", role__in=[Role.MONITOR, Role.ADMIN]).order_by(
                    "email"
                )
            )
            Horoscope.objects.bulk_create(world.horoscopes(approvers), ignore_conflicts=True)
        self.summary_write(scale=scale, seed=seed)

    def services_ensure(self, world: World) -> None:
        for code, (price, premium, _) in SERVICES.items():
            Service.objects.get_or_create(
                code=code, defaults={"name": Service.Code(code).label, "base_price": price, "is_premium": premium}
            )
        # Prices come from the database: an existing service keeps the price an admin gave it.
        world.services = list(Service.objects.filter(code__in=SERVICES).order_by("code"))

    def orders_create(self, world: World, *, total: int, quiet: bool) -> None:
        with tqdm(total=total, unit="order", desc="orders", file=self.stderr._out, disable=quiet) as bar:
            for start in range(0, total, BATCH_SIZE):
                orders, first, fallbacks, calls = [], [], [], []
                for index in range(start, min(start + BATCH_SIZE, total)):
                    order, order_first, order_fallbacks, order_calls = world.order(index)
                    orders.append(order)
                    first += order_first
                    fallbacks += order_fallbacks
                    calls += order_calls
                Order.objects.bulk_create(orders)
                Payment.objects.bulk_create(first)  # before the fallbacks, which point at them
                Payment.objects.bulk_create(fallbacks)
                Call.objects.bulk_create(calls)
                reset_queries()  # under DEBUG each batch would keep megabytes of SQL
                bar.update(len(orders))

    def events_derive(self) -> int:
        """Write the events the domain services would have emitted, from the demo rows' own timestamps.

        The demo world is bulk-created, not played through the services; this gives analytics
        (M23) the same history. Set-based SQL, one statement per kind of event.
        """
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
            months = (
                0 if oldest is None else (timezone.now().year - oldest.year) * 12 + timezone.now().month - oldest.month
            )
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
                    EVENTS_INSERT
                    + f"SELECT {moment}, '{name}', 1, NULL, '', 'marketplace.payment', p.id, {payment_props} "
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

    def demo_world_size(self) -> tuple[int, int]:
        users = User.objects.filter(email__endswith=f"@{DEMO_DOMAIN}").count()
        orders = Order.objects.filter(client__email__endswith=f"@{DEMO_DOMAIN}").count()
        return users, orders

    def demo_world_delete(self) -> tuple[int, int]:
        """Delete the demo users and everything that hangs off them, in SQL: 200k orders are too many to collect."""
        size = self.demo_world_size()
        tables = {
            "user": User._meta.db_table,
            "order": Order._meta.db_table,
            "payment": Payment._meta.db_table,
            "call": Call._meta.db_table,
            "media": MediaAsset._meta.db_table,
            "horoscope": Horoscope._meta.db_table,
            "log": LogEntry._meta.db_table,
        }
        users = "SELECT id FROM {user} WHERE email LIKE %(pattern)s"
        orders = f"SELECT id FROM {{order}} WHERE client_id IN ({users})"
        media = f"SELECT id FROM {{media}} WHERE owner_id IN ({users}) OR order_id IN ({orders})"
        statements = [
            # The analytics events derived from the demo rows go with them.
            f"DELETE FROM events_raw WHERE subject_type = 'marketplace.payment' "
            f"AND subject_id IN (SELECT id FROM {{payment}} WHERE order_id IN ({orders}))",
            f"DELETE FROM events_raw WHERE subject_type = 'marketplace.call' "
            f"AND subject_id IN (SELECT id FROM {{call}} WHERE order_id IN ({orders}))",
            f"DELETE FROM events_raw WHERE subject_type = 'marketplace.order' AND subject_id IN ({orders})",
            f"UPDATE {{horoscope}} SET audio_id = NULL WHERE audio_id IN ({media})",
            f"DELETE FROM {{horoscope}} WHERE approved_by_id IN ({users})",
            f"DELETE FROM {{media}} WHERE id IN ({media})",
            f"DELETE FROM {{payment}} WHERE order_id IN ({orders})",
            f"DELETE FROM {{call}} WHERE order_id IN ({orders}) OR client_id IN ({users}) OR reader_id IN ({users})",
            f"DELETE FROM {{order}} WHERE id IN ({orders})",
            f"DELETE FROM {{log}} WHERE user_id IN ({users})",
            "DELETE FROM {user} WHERE email LIKE %(pattern)s",
        ]
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                for statement in statements:
                    cursor.execute(statement.format(**tables), {"pattern": f"%@{DEMO_DOMAIN}"})
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # fail here, not at some later commit
        except IntegrityError as error:
            raise CommandError(
                f"Rows outside the demo world still refer to it; nothing was deleted. ({error})"
            ) from None
        return size

    def summary_write(self, *, scale: int, seed: int) -> None:
        demo = f"@{DEMO_DOMAIN}"
        orders = Order.objects.filter(client__email__endswith=demo)
        statuses = dict(orders.values_list("status").annotate(n=Count("id")).order_by())
        counts = {
            "users": User.objects.filter(email__endswith=demo).count(),
            "orders": sum(statuses.values()),
            "payments": Payment.objects.filter(order__client__email__endswith=demo).count(),
            "calls": Call.objects.filter(order__client__email__endswith=demo).count(),
            "horoscopes": Horoscope.objects.count(),
        }
        self.stdout.write(
            f"Demo world, scale {scale}, seed {seed}: " + ", ".join(f"{n} {k}" for k, n in counts.items())
        )
        self.stdout.write("Orders by status: " + ", ".join(f"{s} {statuses.get(s, 0)}" for s in ORDER_STATUSES))
        self.stdout.write(self.style.SUCCESS(f"Demo accounts, password {DEMO_PASSWORD}:"))
        for role in (Role.SUPERADMIN, Role.ADMIN, Role.MONITOR, Role.READER, Role.CLIENT):
            self.stdout.write(f"  {role:<11} {demo_email(role, 1)}")
