"""Budgets: the hourly evaluation (meter, forecast, alert once per threshold), each budget's state and degraded modes.

Degraded modes (SRE_COST_README.md): a budget whose month-to-date use reached its limit defers
marketing SMS and WhatsApp (through `samia.providers.gates`) and pauses AR uploads and translation
(through `samia.degraded`). The comparison is made against the current limit and this month's
usage row, so raising the limit or a new month ends the mode at once.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from samia import audit, staff_notices
from samia.accounts.models import User
from samia.rls.registry import ADMINS, Identity
from sre import metering
from sre.metrics import BUDGET_PERCENT
from sre.models import Budget, BudgetAlert, BudgetUsage
from sre.policies import BUDGET_USAGES, BUDGETS

JOB = "system:sre.budgets_evaluate"
# Which spent budget pauses which feature (samia.degraded.FEATURES).
FEATURE_METRICS = {"ar_upload": ("storage_bytes", "egress_bytes"), "translation": ("translation_chars",)}
# Marketing on these channels waits while their budget is spent; transactional messages still go.
DEFERRED_CHANNELS = ("sms", "whatsapp")
# The dispatcher asks per send: its answer is kept this long in the process.
GATE_CACHE_SECONDS = 30


@dataclass(frozen=True)
class BudgetState:
    metric: str
    limit: int
    actual: int
    forecast: int
    percent: int
    forecast_percent: int
    state: str
    unit_cost: Decimal
    cost: Decimal
    forecast_cost: Decimal
    currency: str
    evaluated_at: dt.datetime | None


def percent_of(value: int, limit: int) -> int:
    return value * 100 // limit


def state_of(actual: int, forecast: int, limit: int) -> str:
    """exceeded (degraded), at_risk (the forecast passes the limit), warning (80 % used) or ok."""
    if actual >= limit:
        return "exceeded"
    if forecast >= limit:
        return "at_risk"
    return "warning" if percent_of(actual, limit) >= 80 else "ok"


def _state(budget: Budget, usage: BudgetUsage | None) -> BudgetState:
    actual, forecast = (usage.actual, usage.forecast) if usage else (0, 0)
    return BudgetState(
        metric=budget.metric,
        limit=budget.monthly_limit,
        actual=actual,
        forecast=forecast,
        percent=percent_of(actual, budget.monthly_limit),
        forecast_percent=percent_of(forecast, budget.monthly_limit),
        state=state_of(actual, forecast, budget.monthly_limit),
        unit_cost=budget.unit_cost,
        cost=(budget.unit_cost * actual).quantize(Decimal("0.01")),
        forecast_cost=(budget.unit_cost * forecast).quantize(Decimal("0.01")),
        currency=budget.currency,
        evaluated_at=usage.evaluated_at if usage else None,
    )


def budget_states(*, identity: Identity, now: dt.datetime | None = None) -> list[BudgetState]:
    """Return each budget `identity` may see with this month's use, forecast, percent and state."""
    month = metering.month_bounds(now or timezone.now())[0].date()
    budgets = BUDGETS.scope(Budget.objects.all(), identity).order_by("metric")
    usages = BUDGET_USAGES.scope(BudgetUsage.objects.filter(month=month), identity)
    by_budget = {usage.budget_id: usage for usage in usages}
    return [_state(budget, by_budget.get(budget.pk)) for budget in budgets]


@transaction.atomic
def budgets_evaluate(*, now: dt.datetime | None = None) -> list[BudgetState]:
    """Meter every budget, store this month's use and forecast, and alert each threshold crossed once."""
    now = now or timezone.now()
    month = metering.month_bounds(now)[0].date()
    states = []
    for budget in Budget.objects.select_for_update().order_by("metric"):
        actual = metering.meter(budget.metric, now=now)
        forecast = metering.forecast(budget.metric, actual, now=now)
        usage, _ = BudgetUsage.objects.update_or_create(
            budget=budget, month=month, defaults={"actual": actual, "forecast": forecast, "evaluated_at": now}
        )
        for kind, value in ((BudgetAlert.Kind.ACTUAL, actual), (BudgetAlert.Kind.FORECAST, forecast)):
            percent = percent_of(value, budget.monthly_limit)
            for threshold in sorted(budget.thresholds):
                if percent >= threshold:
                    _alert(budget=budget, month=month, kind=kind, threshold=threshold, percent=percent)
        state = _state(budget, usage)
        BUDGET_PERCENT.labels(budget.metric).set(state.percent)
        states.append(state)
    return states


def _alert(*, budget: Budget, month: dt.date, kind: str, threshold: int, percent: int) -> None:
    alert, created = BudgetAlert.objects.get_or_create(
        budget=budget, month=month, kind=kind, threshold=threshold, defaults={"percent": percent}
    )
    if not created:
        return
    details = {
        "metric": budget.metric,
        "kind": kind,
        "threshold": threshold,
        "percent": percent,
        "month": f"{month:%Y-%m}",
    }
    audit.record(action="sre.budget.alert", actor=JOB, target=budget, details=details)
    admins = list(User.objects.filter(role__in=ADMINS, is_active=True).values_list("pk", flat=True))
    what = "has reached" if kind == BudgetAlert.Kind.ACTUAL else "is forecast to reach"
    staff_notices.staff_notify(
        user_ids=admins,
        kind="sre.budget_alert",
        title=f"Budget {budget.metric}: {threshold}%",
        body=f"The {budget.metric} budget {what} {threshold}% of its monthly limit ({percent}% in {month:%Y-%m}).",
        actor=JOB,
        critical=True,
        dedupe=f"sre.budget_alert:{alert.pk}",
    )


def metric_spent(metric: str, *, now: dt.datetime | None = None) -> bool:
    """Tell whether `metric`'s budget is spent this month (its usage reached the current limit)."""
    month = metering.month_bounds(now or timezone.now())[0].date()
    return BudgetUsage.objects.filter(
        budget__metric=metric, month=month, actual__gte=F("budget__monthly_limit")
    ).exists()


def degraded_reason(feature: str) -> str | None:
    """The samia.degraded checker: "budget_exceeded" while a budget the feature spends is spent."""
    return "budget_exceeded" if any(metric_spent(m) for m in FEATURE_METRICS.get(feature, ())) else None


_gate_cache: dict[str, tuple[float, bool]] = {}


def send_gate(*, channel: str, marketing: bool) -> str | None:
    """The samia.providers.gates check: defer marketing SMS and WhatsApp while their budget is spent."""
    if not marketing or channel not in DEFERRED_CHANNELS:
        return None
    expires, spent = _gate_cache.get(channel, (0.0, False))
    if time.monotonic() >= expires:
        spent = metric_spent(channel)
        _gate_cache[channel] = (time.monotonic() + GATE_CACHE_SECONDS, spent)
    return "budget_exceeded" if spent else None


def gate_cache_clear() -> None:
    """Forget the dispatcher's cached answers (a limit was just changed)."""
    _gate_cache.clear()


@transaction.atomic
def budget_change(*, identity: Identity, budget: Budget, changed: list[str]) -> Budget:
    """Save an admin's change to a budget (a raised limit ends its degraded mode at once); audited."""
    budget.updated_at = timezone.now()
    budget.save()
    gate_cache_clear()
    details = {"metric": budget.metric, "monthly_limit": budget.monthly_limit, "changed": sorted(changed)}
    audit.record(action="sre.budget.change", actor=identity, target=budget, details=details)
    return budget
