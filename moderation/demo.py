"""The moderation demo on top of seed_demo's world: cases across priorities (one past its SLA), an appeal.

Everything goes through the services, as the demo monitor bound with `samia.rls.binding.bound`, or
through the sweeps as the nightly job runs them; only the overdue case's clock is set back
afterwards, as seed_demo dates its orders. The same world gives the same cases.
"""

from __future__ import annotations

import datetime as dt

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from moderation import appeals, services, sweeps
from moderation.models import SLA, Case, ModerationAction, SweepRule
from samia.accounts.models import Role, User
from samia.marketplace import services as marketplace_services
from samia.marketplace.models import Order
from samia.marketplace.states import OrderStatus
from samia.rls.binding import bound
from samia.rls.registry import Identity

DEMO_DOMAIN = "demo.samia.test"
SPAM_ORDERS = 10  # the spam_orders sweep's seeded threshold: this many orders in an hour
# Sweeps over the world's own history, run for the day before its anchor (a window that ends at
# the anchor, so their findings depend on the seed only). The payment fallback sweep is about a
# provider, not about a demo user, so it stays out of the demo.
HISTORY_RULES = [SweepRule.Rule.REJECT_RATE, SweepRule.Rule.REFUND_LOOP, SweepRule.Rule.CALL_DROPS]
OVERDUE_BY = dt.timedelta(hours=1)


def _demo_users(role: str):
    return User.objects.filter(email__endswith=f"@{DEMO_DOMAIN}", role=role, blocked_at__isnull=True).order_by("id")


def _staff(role: str) -> Identity:
    return Identity.of(User.objects.get(email=f"{role}@{DEMO_DOMAIN}"))


def demo_cases():
    """Return the cases about the demo world: its users, their orders, media and calls."""
    demo_users = User.objects.filter(email__endswith=f"@{DEMO_DOMAIN}")
    return Case.objects.filter(
        Q(subject__in=demo_users)
        | Q(order__client__in=demo_users)
        | Q(media__owner__in=demo_users)
        | Q(call__client__in=demo_users)
        | Q(pk__in=ModerationAction.objects.filter(subject__in=demo_users).values("case_id"))
    )


def demo_ready() -> bool:
    """Return whether seed_demo's staff accounts exist."""
    return User.objects.filter(email__in=[f"{role}@{DEMO_DOMAIN}" for role in (Role.MONITOR, Role.ADMIN)]).count() == 2


@transaction.atomic
def demo_moderation_create(*, today: dt.date) -> None:
    """Open the demo's cases through the services and the sweeps, and appeal one of its blocks."""
    monitor = _staff(Role.MONITOR)
    # client1 and reader1 are the accounts people log in with: they stay unblocked.
    clients = list(_demo_users(Role.CLIENT).exclude(email=f"client1@{DEMO_DOMAIN}")[:3])
    readers = list(_demo_users(Role.READER).exclude(email=f"reader1@{DEMO_DOMAIN}")[:1])
    waiting = Order.objects.filter(client__email__endswith=f"@{DEMO_DOMAIN}", status=OrderStatus.AWAITING_APPROVAL)
    delivered = Order.objects.filter(client__email__endswith=f"@{DEMO_DOMAIN}", status=OrderStatus.DELIVERED)

    # A client who orders ten readings in an hour: the spam sweep finds them (low, open).
    spammer = Identity.of(clients[2])
    with bound(spammer):
        for number in range(SPAM_ORDERS):
            marketplace_services.order_create(
                identity=spammer, service_code="coffee", question=f"Read my cup again, photo {number + 1}."
            )
    sweeps.sweeps_run(rules=[SweepRule.Rule.SPAM_ORDERS])
    sweeps.sweeps_run(day=today - dt.timedelta(days=1), rules=HISTORY_RULES)

    with bound(monitor):
        # Critical: an order held as fraud, the case left past its SLA.
        held, _ = services.order_moderate(
            identity=monitor,
            order_id=waiting.order_by("submitted_at", "id").first().pk,
            action=ModerationAction.Code.HOLD,
            reason_code="fraud",
            evidence=[],
        )
        # High: a client blocked for a week for harassment, who appeals (staff open it on their behalf).
        block = services.user_block(
            identity=monitor,
            user_id=clients[0].pk,
            reason_code="harassment",
            duration=dt.timedelta(days=7),
            evidence=[],
        )
        appeals.appeal_open(
            identity=monitor, action_id=block.pk, statement="I quoted a song lyric; I did not mean to insult anyone."
        )
        # Medium: a reader blocked for three days for call abuse.
        services.user_block(
            identity=monitor,
            user_id=readers[0].pk,
            reason_code="call_abuse",
            duration=dt.timedelta(days=3),
            evidence=[],
        )
        # Escalated to the admins: a delivered reading copied from a book (medium, raised to high).
        copied = delivered.exclude(reader=readers[0]).order_by("-delivered_at", "-id").first()
        services.order_moderate(
            identity=monitor,
            order_id=copied.pk,
            action=ModerationAction.Code.ESCALATE,
            reason_code="copyright",
            evidence=[],
            subject="reader",
        )
    _set_back(held)


def _set_back(case: Case) -> None:
    """Move a case's clock back so that its SLA has passed: the queue's one overdue case."""
    due = timezone.now() - OVERDUE_BY
    opened = due - SLA[case.priority]
    Case.objects.filter(pk=case.pk).update(opened_at=opened, sla_due_at=due)
    ModerationAction.objects.filter(case=case).update(created_at=opened)


# --- removal --------------------------------------------------------------------------------------------------------

_DEMO_USERS = "SELECT id FROM accounts_user WHERE email LIKE %(pattern)s"
_DEMO_CASES = f"""
    SELECT c.id FROM moderation_case c
    WHERE c.subject_id IN ({_DEMO_USERS})
       OR c.order_id IN (SELECT id FROM marketplace_order WHERE client_id IN ({_DEMO_USERS}))
       OR c.media_id IN (SELECT id FROM marketplace_mediaasset WHERE owner_id IN ({_DEMO_USERS}))
       OR c.call_id IN (SELECT id FROM marketplace_call WHERE client_id IN ({_DEMO_USERS}))
       OR c.id IN (SELECT case_id FROM moderation_moderationaction WHERE subject_id IN ({_DEMO_USERS}))
"""
_DELETE = [
    ("lineage edges", f"DELETE FROM moderation_lineageedge WHERE case_id IN ({_DEMO_CASES})"),
    (
        "appeals",
        f"DELETE FROM moderation_appeal WHERE action_id IN "
        f"(SELECT id FROM moderation_moderationaction WHERE case_id IN ({_DEMO_CASES}))",
    ),
    ("actions", f"DELETE FROM moderation_moderationaction WHERE case_id IN ({_DEMO_CASES})"),
    ("cases", f"DELETE FROM moderation_case WHERE id IN ({_DEMO_CASES})"),
]


@transaction.atomic
def demo_moderation_delete() -> dict[str, int]:
    """Delete the cases about the demo world with their actions, appeals and lineage; return counts.

    Their audit entries stay: the trail is append-only. Rows about other users that only name a
    demo staff member (as actor or assignee) stay too, and then seed_demo refuses to delete that user.
    """
    removed = {}
    with connection.cursor() as cursor:
        for name, statement in _DELETE:
            cursor.execute(statement, {"pattern": f"%@{DEMO_DOMAIN}"})
            removed[name] = cursor.rowcount
    return removed
