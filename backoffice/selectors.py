"""The dashboard's reads, under the request's identity: open work from indexed queries, KPIs from the rollups.

Each app is read through its own selectors (the queryset they return is scoped by the declaration,
then counted here); the analytics figures come from `analytics.selectors`, which read the
metrics_* rollups and never the raw events.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Min, Q
from django.utils import timezone

import analytics.selectors as analytics
from moderation import selectors as moderation
from moderation.models import Severity
from notifications import selectors as notifications
from notifications.models import Campaign
from samia.audit import selectors as audit
from samia.audit.models import AuditCheckpoint
from samia.marketplace import selectors as marketplace
from samia.marketplace.states import OrderStatus
from samia.providers import registry as providers
from samia.providers.base import ProviderUnavailable
from samia.rls.registry import DECLARATIONS, Identity

# Orders still being worked on; delivered, cancelled and unlisted ones are counted by the KPIs.
OPEN_ORDER_STATUSES = (
    OrderStatus.NEW,
    OrderStatus.ASSIGNED,
    OrderStatus.IN_PROGRESS,
    OrderStatus.AWAITING_APPROVAL,
    OrderStatus.APPROVED,
    OrderStatus.REJECTED,
    OrderStatus.ON_HOLD,
)
# KPI family -> the rollup table whose declaration decides who sees it.
KPI_TABLES = {
    "fulfillment": "metrics_daily_fulfillment",
    "moderation": "metrics_daily_moderation",
    "payments": "metrics_daily_payments",
    "calls": "metrics_daily_calls",
    "engagement": "metrics_daily_active_users",
}
# Open orders are counted up to this many per status (the dashboard shows "200+"): under RLS each
# counted order is a heap read (the policies name columns the status index lacks), so an exact count
# of an 80,000-order queue cost the page hundreds of milliseconds.
COUNT_CAP = 200
VERIFY_TASK = "moderation.verify_audit"
TAMPER_KEY = "audit_tamper:"
CAMPAIGNS_SHOWN = 10


def identity_of(request) -> Identity:
    """Return the identity the request is bound to."""
    return getattr(request, "rls_identity", None) or Identity.of(request.user)


def may_read(identity: Identity, table: str) -> bool:
    """Tell whether `identity` may select from `table` (the declaration Postgres enforces)."""
    declaration = DECLARATIONS.get(table)
    return declaration is not None and identity.persona in declaration.roles_for("select")


def kpi_families(identity: Identity) -> list[str]:
    """Return the KPI families whose rollup `identity` may read."""
    return [family for family, table in KPI_TABLES.items() if may_read(identity, table)]


def business_today() -> dt.date:
    """Return today's date in the business time zone the rollups cut days in."""
    return timezone.now().astimezone(ZoneInfo(settings.ANALYTICS_TIMEZONE)).date()


def business_day_start(day: dt.date) -> dt.datetime:
    """Return the moment `day` begins in the business time zone."""
    return dt.datetime.combine(day, dt.time(), ZoneInfo(settings.ANALYTICS_TIMEZONE))


def case_summary(*, identity: Identity, now: dt.datetime) -> list[dict]:
    """Return, per priority (most urgent first), the open cases, how many are overdue and the oldest due time."""
    rows = (
        moderation.case_queue(identity=identity)
        .order_by()
        .values("priority")
        .annotate(open=Count("id"), overdue=Count("id", filter=Q(sla_due_at__lt=now)), oldest_due=Min("sla_due_at"))
    )
    found = {row["priority"]: row for row in rows}
    return [
        {
            "priority": priority,
            "label": label,
            **(found.get(priority) or {"open": 0, "overdue": 0, "oldest_due": None}),
        }
        for priority, label in reversed(Severity.choices)
    ]


def order_summary(*, identity: Identity, now: dt.datetime) -> dict:
    """Return the open orders per status and the stuck ones (awaiting approval past the limit), each up to COUNT_CAP + 1."""
    orders = marketplace.order_list(identity=identity).order_by()
    counts = {status: orders.filter(status=status)[: COUNT_CAP + 1].count() for status in OPEN_ORDER_STATUSES}
    stuck_before = now - dt.timedelta(hours=settings.BACKOFFICE_STUCK_HOURS)
    # Both read index order_status_submitted_idx: the oldest is its first entry, the count stops at the cap.
    stuck = orders.filter(status=OrderStatus.AWAITING_APPROVAL, submitted_at__lt=stuck_before)
    stuck_count = stuck[: COUNT_CAP + 1].count()
    stuck_oldest = stuck.order_by("submitted_at").values_list("submitted_at", flat=True).first()
    return {
        "statuses": [
            {
                "status": status,
                "label": OrderStatus(status).label,
                "count": counts[status],
                "capped": counts[status] > COUNT_CAP,
            }
            for status in OPEN_ORDER_STATUSES
        ],
        "stuck": stuck_count,
        "stuck_capped": stuck_count > COUNT_CAP,
        "stuck_oldest": stuck_oldest,
        "stuck_before": stuck_before,
        "stuck_hours": settings.BACKOFFICE_STUCK_HOURS,
    }


def kpis(*, identity: Identity, first: dt.date, last: dt.date) -> dict:
    """Return the daily series of `first`..`last`, the day `last` and the whole range, per readable family.

    Monitors read the moderation family; whoever reads fulfillment reads the same decisions there.
    DAU/WAU/MAU are the day before `last`'s: the last day the nightly rollup has stored.
    """
    families = kpi_families(identity)
    if "fulfillment" in families:
        families.remove("moderation")
    result: dict = {"first": first, "last": last, "families": families}
    daily = {"first": first, "last": last, "group_by": ["day"]}
    for family, function in (
        ("fulfillment", analytics.fulfillment_metrics),
        ("moderation", analytics.moderation_metrics),
        ("calls", analytics.call_metrics),
    ):
        if family in families:
            days = function(identity=identity, **daily)
            today = next((row for row in days if row["day"] == last), None)
            result[family] = {
                "days": days,
                "today": today or function(identity=identity, first=last, last=last, group_by=[])[0],
                "range": function(identity=identity, first=first, last=last, group_by=[])[0],
            }
    if "payments" in families:
        result["payments"] = analytics.payment_metrics(identity=identity, first=first, last=last, group_by=["provider"])
    if "engagement" in families:
        result["engagement"] = analytics.active_users(identity=identity, day=last - dt.timedelta(days=1))
    return result


def campaigns_in_flight(*, identity: Identity) -> list[dict]:
    """Return the scheduled and paused campaigns (soonest first) with their sends sent, deferred and failed."""
    if not may_read(identity, Campaign._meta.db_table):
        return []
    campaigns = notifications.campaign_list(identity=identity).filter(
        status__in=(Campaign.Status.SCHEDULED, Campaign.Status.PAUSED)
    )
    result = []
    for campaign in campaigns.order_by("scheduled_at", "id")[:CAMPAIGNS_SHOWN]:
        stats = notifications.campaign_stats(campaign=campaign)
        result.append(
            {
                "campaign": campaign,
                "sent": stats["sent"],
                "deferred": stats["deferred"],
                "failed": stats["failed"],
                "pending": stats["pending"],
            }
        )
    return result


def provider_status() -> list[dict]:
    """Return each provider's name and whether it is configured: settings only, no network call.

    The bare adapter, not `registry.get`: that one asks the provider's toggle and circuit breaker in
    Redis (and may move the breaker to half-open), which a page view must not do.
    """
    result = []
    for name in sorted(settings.PROVIDERS):
        try:
            configured = providers.adapter(name).configured()
        except ProviderUnavailable:
            configured = False
        result.append({"name": name, "configured": configured})
    return result


def audit_status(*, identity: Identity) -> dict:
    """Return the newest signed checkpoint and the last run of the chain verification job."""
    from django_celery_beat.models import PeriodicTask

    checkpoint = audit.checkpoint_latest() if may_read(identity, AuditCheckpoint._meta.db_table) else None
    task = DECLARATIONS[PeriodicTask._meta.db_table].scope(PeriodicTask.objects.all(), identity)
    verified = task.filter(task=VERIFY_TASK).values("last_run_at", "enabled").first()
    # the daily tamper case of moderation.services.audit_chain_check, by its dedupe key (a filter the list takes too)
    tamper = moderation.case_queue(identity=identity).filter(dedupe_key__startswith=TAMPER_KEY).count()
    return {"checkpoint": checkpoint, "verification": verified, "open_tamper_cases": tamper}
