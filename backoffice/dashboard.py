"""The back office's home: one dashboard per role, each widget shown only when the role may read its table.

unfold calls `dashboard_callback` (UNFOLD["DASHBOARD_CALLBACK"]) to fill the index page's context;
backoffice/templates/backoffice/dashboard.html draws it. Every figure links to the changelist behind
it, filtered the same way it was counted; a link the role may not open is left out.
"""

from __future__ import annotations

import datetime as dt
import json
from urllib.parse import urlencode

from django.contrib import admin
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from backoffice import selectors
from moderation.models import Case
from moderation.selectors import QUEUE_STATUSES
from notifications.models import Campaign, Send
from samia.audit.models import AuditCheckpoint
from samia.marketplace.models import Call, Order, Payment

KPI_DAYS = 30
# The states notifications.selectors.STATS counts as "sent", so a link lists what the figure counted.
SENT_STATES = ("sent", "delivered", "opened", "clicked", "bounced")


def changelist(request, model, **filters) -> str | None:
    """Return the URL of `model`'s changelist filtered by `filters`, or None when the role may not open it."""
    model_admin = admin.site._registry.get(model)
    if model_admin is None or not model_admin.has_view_permission(request):
        return None
    try:
        url = reverse(f"{admin.site.name}:{model._meta.app_label}_{model._meta.model_name}_changelist")
    except NoReverseMatch:
        return None
    query = {key: ",".join(value) if isinstance(value, list | tuple) else value for key, value in filters.items()}
    return f"{url}?{urlencode(query)}" if query else url


def _when(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat(timespec="seconds")


def _cases(request, identity, now) -> dict | None:
    if not selectors.may_read(identity, Case._meta.db_table):
        return None
    rows = selectors.case_summary(identity=identity, now=now)
    for row in rows:
        open_filter = {"priority__exact": row["priority"], "status__in": QUEUE_STATUSES}
        row["link"] = changelist(request, Case, **open_filter)
        row["overdue_link"] = changelist(request, Case, **open_filter, sla_due_at__lt=_when(now))
    return {"rows": rows, "link": changelist(request, Case, status__in=QUEUE_STATUSES)}


def _orders(request, identity, now) -> dict | None:
    if not selectors.may_read(identity, Order._meta.db_table):
        return None
    summary = selectors.order_summary(identity=identity, now=now)
    for row in summary["statuses"]:
        row["link"] = changelist(request, Order, status__exact=row["status"])
        row["shown"] = f"{selectors.COUNT_CAP}+" if row["capped"] else row["count"]
    summary["stuck_shown"] = f"{selectors.COUNT_CAP}+" if summary["stuck_capped"] else summary["stuck"]
    summary["stuck_link"] = changelist(
        request, Order, status__exact="awaiting_approval", submitted_at__lt=_when(summary["stuck_before"])
    )
    return summary


def _chart(labels, datasets) -> str:
    return json.dumps({"labels": labels, "datasets": datasets})


def _percent(value) -> float | None:
    return None if value is None else round(100 * value, 1)


def _hours(seconds) -> float | None:
    return None if seconds is None else round(seconds / 3600, 2)


def _kpis(request, identity, today) -> dict | None:
    first = today - dt.timedelta(days=KPI_DAYS - 1)
    data = selectors.kpis(identity=identity, first=first, last=today)
    if not data["families"]:
        return None
    start = _when(selectors.business_day_start(first))
    since = {"created_at__gte": start}
    charts, tiles = [], []
    if "fulfillment" in data:
        days = data["fulfillment"]["days"]
        labels = [row["day"].isoformat() for row in days]
        charts += [
            {
                "title": _("Orders per day"),
                "type": "bar",
                "link": changelist(request, Order, **since),
                "data": _chart(
                    labels,
                    [
                        {"label": _("Created"), "data": [row["created"] for row in days]},
                        {"label": _("Delivered"), "data": [row["delivered"] for row in days]},
                    ],
                ),
            },
            {
                "title": _("TTF-Delivery (hours), p50 and p90"),
                "type": "line",
                "link": changelist(request, Order, status__exact="delivered", delivered_at__gte=start),
                "data": _chart(
                    labels,
                    [
                        {"label": "p50", "data": [_hours(row["ttf_delivery_p50_seconds"]) for row in days]},
                        {"label": "p90", "data": [_hours(row["ttf_delivery_p90_seconds"]) for row in days]},
                    ],
                ),
            },
            {
                "title": _("Approval rate (%)"),
                "type": "line",
                "link": changelist(request, Order, decided_at__gte=start),
                "data": _chart(
                    labels, [{"label": _("Approved"), "data": [_percent(row["approval_rate"]) for row in days]}]
                ),
            },
        ]
        for period, row in (
            (_("Today"), data["fulfillment"]["today"]),
            (_("%(days)s days") % {"days": KPI_DAYS}, data["fulfillment"]["range"]),
        ):
            tiles += [
                {
                    "title": _("Orders created (%(period)s)") % {"period": period},
                    "value": row["created"],
                    "link": changelist(request, Order),
                },
                {
                    "title": _("Approval rate (%(period)s)") % {"period": period},
                    "value": _percent(row["approval_rate"]),
                    "unit": "%",
                },
                {
                    "title": _("TTF-Delivery p50 (%(period)s)") % {"period": period},
                    "value": _hours(row["ttf_delivery_p50_seconds"]),
                    "unit": "h",
                },
                {
                    "title": _("TTF-Delivery p90 (%(period)s)") % {"period": period},
                    "value": _hours(row["ttf_delivery_p90_seconds"]),
                    "unit": "h",
                },
            ]
    if "moderation" in data:
        days = data["moderation"]["days"]
        labels = [row["day"].isoformat() for row in days]
        charts.append(
            {
                "title": _("Reading decisions: approval, refund and call-drop rates (%)"),
                "type": "line",
                "link": changelist(request, Order, decided_at__gte=start),
                "data": _chart(
                    labels,
                    [
                        {"label": _("Approval"), "data": [_percent(row["approval_rate"]) for row in days]},
                        {"label": _("Refund"), "data": [_percent(row["refund_rate"]) for row in days]},
                        {"label": _("Call drop"), "data": [_percent(row["call_drop_rate"]) for row in days]},
                    ],
                ),
            }
        )
        for period, row in (
            (_("Today"), data["moderation"]["today"]),
            (_("%(days)s days") % {"days": KPI_DAYS}, data["moderation"]["range"]),
        ):
            tiles += [
                {"title": _("Approved (%(period)s)") % {"period": period}, "value": row["approved"]},
                {"title": _("Rejected (%(period)s)") % {"period": period}, "value": row["rejected"]},
                {
                    "title": _("Approval rate (%(period)s)") % {"period": period},
                    "value": _percent(row["approval_rate"]),
                    "unit": "%",
                },
            ]
    if "payments" in data:
        providers = data["payments"]
        charts.append(
            {
                "title": _("Payment success by provider, %(days)s days (%%)") % {"days": KPI_DAYS},
                "type": "bar",
                "link": changelist(request, Payment, **since),
                "data": _chart(
                    [row["provider"] for row in providers],
                    [{"label": _("Success"), "data": [_percent(row["success_rate"]) for row in providers]}],
                ),
            }
        )
    if "calls" in data:
        days = data["calls"]["days"]
        charts.append(
            {
                "title": _("Call answer rate (%)"),
                "type": "line",
                "link": changelist(request, Call, scheduled_at__gte=start),
                "data": _chart(
                    [row["day"].isoformat() for row in days],
                    [{"label": _("Answered"), "data": [_percent(row["answer_rate"]) for row in days]}],
                ),
            }
        )
        tiles.append(
            {
                "title": _("Call answer rate (today)"),
                "value": _percent(data["calls"]["today"]["answer_rate"]),
                "unit": "%",
            }
        )
    if "engagement" in data:
        users = data["engagement"]
        tiles += [{"title": f"{name.upper()} ({users['day']})", "value": users[name]} for name in ("dau", "wau", "mau")]
    return {"first": first, "last": today, "families": data["families"], "charts": charts, "tiles": tiles}


def _campaigns(request, identity) -> list[dict] | None:
    if not selectors.may_read(identity, Campaign._meta.db_table):
        return None
    rows = selectors.campaigns_in_flight(identity=identity)
    for row in rows:
        campaign = row["campaign"].pk
        row["link"] = changelist(request, Campaign, id__exact=campaign)
        row["sent_link"] = changelist(request, Send, campaign__exact=campaign, state__in=SENT_STATES)
        row["deferred_link"] = changelist(
            request, Send, campaign__exact=campaign, state__in=("planned", "queued"), last_error="provider_unavailable"
        )
        row["failed_link"] = changelist(request, Send, campaign__exact=campaign, state__exact="failed")
    return rows


def _audit(request, identity) -> dict | None:
    if not selectors.may_read(identity, AuditCheckpoint._meta.db_table):
        return None
    from django_celery_beat.models import PeriodicTask

    status = selectors.audit_status(identity=identity)
    status["checkpoint_link"] = changelist(request, AuditCheckpoint)
    status["verification_link"] = changelist(request, PeriodicTask, task=selectors.VERIFY_TASK)
    status["tamper_link"] = changelist(
        request, Case, status__in=QUEUE_STATUSES, dedupe_key__startswith=selectors.TAMPER_KEY
    )
    return status


def dashboard(request) -> dict:
    """Return the widgets of the signed-in staff member's dashboard; a widget the role may not read is None."""
    identity = selectors.identity_of(request)
    now = timezone.now()
    return {
        "now": now,
        "cases": _cases(request, identity, now),
        "orders": _orders(request, identity, now),
        "kpis": _kpis(request, identity, selectors.business_today()),
        "campaigns": _campaigns(request, identity),
        "providers": selectors.provider_status() if selectors.may_read(identity, Campaign._meta.db_table) else None,
        "audit": _audit(request, identity),
    }


def dashboard_callback(request, context: dict) -> dict:
    """unfold's DASHBOARD_CALLBACK: add the dashboard to the index page's context."""
    context["dashboard"] = dashboard(request)
    return context
