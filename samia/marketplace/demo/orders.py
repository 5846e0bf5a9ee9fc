"""Build the demo orders with their payments (and fallbacks) and calls, in batches."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TextIO

from django.db import reset_queries, transaction
from tqdm import tqdm

from samia.accounts.models import Language
from samia.marketplace.demo.world import BATCH_SIZE, CENT, DAY, HOUR, SERVICES, World, seconds
from samia.marketplace.models import Call, Order, Payment, Service
from samia.marketplace.states import HELD
from samia.marketplace.states import OrderStatus as S

GOLD_SHARE = 0.12
GOLD_SURCHARGE = Decimal("1.5")
FALLBACK_SHARE = 0.06

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
# How long after a cancellation, or a delivery, its refund comes (never after the anchor).
REFUND_SECONDS = {S.CANCELLED: (5 * 60, DAY), S.DELIVERED: (HOUR, 7 * DAY)}
DROP_REASONS = {
    Call.Party.CLIENT: "client_disconnected",
    Call.Party.READER: "reader_disconnected",
    Call.Party.SYSTEM: "network_lost",
}


def order_build(world: World, index: int) -> tuple[Order, list[Payment], list[Payment], list[Call]]:
    """Return the index-th order with its first payment attempts, fallback attempts and calls."""
    rng = world.rng
    # The first orders walk through every status so that even the smallest world shows them all.
    if index < len(ORDER_STATUSES):
        status = ORDER_STATUSES[index]
    else:
        status = rng.choices(ORDER_STATUSES, [STATUS_WEIGHTS[s] for s in ORDER_STATUSES])[0]
    service = rng.choices(world.services, [SERVICES[s.code][2] for s in world.services])[0]
    client = world.clients[int(len(world.clients) * rng.random() ** 1.2)]  # a few clients order a lot
    # A cancellation happens while the order is new, or once it is assigned.
    reached = int(rng.random() < 0.4) if status == S.CANCELLED else REACHED[status]
    names = list(STAMPS[:reached]) + (["cancelled_at"] if status == S.CANCELLED else [])
    steps = [rng.randint(*STEP_SECONDS[name]) for name in names]
    if service.code == Service.Code.DIRECT_CALL and reached >= 3:
        steps[2] += HOUR  # the call happens between start and submission
    latest = world.anchor - seconds(sum(steps) + TAIL_SECONDS)
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
        reader=rng.choice(world.readers) if reached else None,
        question=question,
        is_gold=rng.random() < GOLD_SHARE,
        status=status,
        rejection_reason=rng.choice(REJECTIONS) if status == S.REJECTED else "",
        created_at=created,
        **stamps,
    )
    first, fallbacks = payments_build(world, order)
    calls = calls_build(world, order) if service.code == Service.Code.DIRECT_CALL else []
    return order, first, fallbacks, calls


def payment_outcome(world: World, order: Order) -> str:
    """Return how the order's payment ended, as its status implies."""
    rng = world.rng
    if order.status == S.NEW:
        return Payment.Status.SUCCEEDED if rng.random() < 0.7 else Payment.Status.PENDING
    if order.status == S.CANCELLED:
        if order.reader is None and rng.random() < 0.5:
            return Payment.Status.FAILED  # the charge failed, so the order was cancelled
        return Payment.Status.REFUNDED
    if order.status == S.DELIVERED and rng.random() < 0.03:
        return Payment.Status.REFUNDED
    return Payment.Status.SUCCEEDED


def refund_moment(world: World, order: Order, payment: Payment) -> dt.datetime:
    """Return when the order's payment was refunded: after the payment and the cancellation or delivery."""
    low, high = REFUND_SECONDS[order.status]
    start = max(payment.created_at, order.cancelled_at or order.delivered_at)
    end = min(start + seconds(high), world.anchor)
    begin = min(start + seconds(low), end)
    return begin + seconds(world.refund_rng.randint(0, int((end - begin).total_seconds())))


def payment_reference(world: World, provider: str) -> str:
    """Return a provider reference in the provider's own format."""
    if provider == Payment.Provider.STRIPE:
        return f"pi_{world.rng.getrandbits(96):024x}"
    if provider == Payment.Provider.SQUARE:
        return f"sq_{world.rng.getrandbits(88):022X}"
    return f"manual-{world.rng.randrange(10**8):08d}"


def payments_build(world: World, order: Order) -> tuple[list[Payment], list[Payment]]:
    """Return the order's first payment attempts and its fallback attempts (a failed Stripe charge retried on Square)."""
    rng = world.rng
    amount = order.service.base_price * (GOLD_SURCHARGE if order.is_gold else 1)
    fields = {
        "order": order,
        "country": order.client.country,
        "amount": amount.quantize(CENT),
        "currency": order.service.currency,
    }
    outcome = payment_outcome(world, order)
    paid_at = order.created_at + seconds(rng.randint(5, 60))
    if rng.random() < FALLBACK_SHARE:
        failed = Payment(
            provider=Payment.Provider.STRIPE,
            status=Payment.Status.FAILED,
            attempt=1,
            provider_reference=payment_reference(world, Payment.Provider.STRIPE),
            created_at=paid_at,
            **fields,
        )
        retry = Payment(
            provider=Payment.Provider.SQUARE,
            status=outcome,
            attempt=2,
            fallback_of=failed,
            provider_reference=payment_reference(world, Payment.Provider.SQUARE),
            created_at=paid_at + seconds(rng.randint(60, 300)),
            **fields,
        )
        if outcome == Payment.Status.REFUNDED:
            retry.refunded_at = refund_moment(world, order, retry)
        return [failed], [retry]
    provider = rng.choices(list(Payment.Provider), [85, 13, 2])[0]
    payment = Payment(
        provider=provider,
        status=outcome,
        attempt=1,
        provider_reference=payment_reference(world, provider),
        created_at=paid_at,
        **fields,
    )
    if outcome == Payment.Status.REFUNDED:
        payment.refunded_at = refund_moment(world, order, payment)
    return [payment], []


def calls_build(world: World, order: Order) -> list[Call]:
    """Return the direct call order's calls: scheduled, ringing, answered or ended, some after a dropped or failed one."""
    rng = world.rng
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


@transaction.atomic
def services_ensure(world: World) -> None:
    """Create the missing services and load all of them into the world."""
    for code, (price, premium, _) in SERVICES.items():
        Service.objects.get_or_create(
            code=code, defaults={"name": Service.Code(code).label, "base_price": price, "is_premium": premium}
        )
    # Prices come from the database: an existing service keeps the price an admin gave it.
    world.services = list(Service.objects.filter(code__in=SERVICES).order_by("code"))


@transaction.atomic
def orders_create(world: World, *, total: int, progress: TextIO, quiet: bool) -> None:
    """Insert `total` demo orders with their payments and calls, in batches, showing progress on `progress`."""
    with tqdm(total=total, unit="order", desc="orders", file=progress, disable=quiet) as bar:
        for start in range(0, total, BATCH_SIZE):
            orders, first, fallbacks, calls = [], [], [], []
            for index in range(start, min(start + BATCH_SIZE, total)):
                order, order_first, order_fallbacks, order_calls = order_build(world, index)
                orders.append(order)
                first += order_first
                fallbacks += order_fallbacks
                calls += order_calls
            Order.objects.bulk_create(orders)
            Payment.objects.bulk_create(first)  # before the fallbacks, which point at them
            Payment.objects.bulk_create(fallbacks)
            # A refund is the payment's last change: bulk_create stamps updated_at (auto_now) with the
            # seeding instant, bulk_update writes the refund's own (the refunded events and the
            # moderation refund-loop sweep read it).
            refunds = [p for p in first + fallbacks if p.status == Payment.Status.REFUNDED]
            for payment in refunds:
                payment.updated_at = payment.refunded_at
            Payment.objects.bulk_update(refunds, ["updated_at"])
            Call.objects.bulk_create(calls)
            reset_queries()  # under DEBUG each batch would keep megabytes of SQL
            bar.update(len(orders))
