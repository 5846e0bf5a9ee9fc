"""Nightly sweeps: find what nobody reported and open one case per finding, rule and day.

Each rule is one set-based statement that finds the subjects over its thresholds and inserts their
cases (`ON CONFLICT (dedupe_key) DO NOTHING`), returning only the cases it created, so a second run
on the same day creates nothing. A rule's thresholds may differ per country (SweepRuleCountry: the
subject's country, or the payment's for provider scopes). Sweeps run as the service role (a Celery
task, not bound to a caller).
"""

from __future__ import annotations

import datetime as dt
import json

from django.db import connection, transaction
from django.utils import timezone

from moderation.models import Case, SweepRule
from samia import audit

SYSTEM_SWEEPS = "system:sweeps"
Rule = SweepRule.Rule

# Each finding query selects, for the window [%(start)s, %(end)s), every candidate's
# (subject_id, scope, figures..., _country, _count, _rate): `_count` is what min_count is compared
# with, `_rate` (rate rules) what max_rate is compared with, `_country` picks the thresholds
# (moderation_sweeprulecountry, else the rule's own). The underscored columns stay out of `details`.
# Reject rate: every decision is an event (order.rejected / order.approved), so a rejection stays
# counted after the reader resubmits and the order is approved; orders.status would forget it.
FINDINGS = {
    Rule.REJECT_RATE: """
        SELECT u.id AS subject_id, '' AS scope, d.rejected, d.decisions,
               round(d.rejected::numeric / d.decisions, 4) AS rate,
               u.country AS _country, d.decisions AS _count, d.rejected::numeric / d.decisions AS _rate
        FROM (SELECT (e.properties->>'reader_id')::bigint AS reader_id,
                     count(*) FILTER (WHERE e.name = 'order.rejected') AS rejected, count(*) AS decisions
              FROM events_raw e
              WHERE e.name IN ('order.rejected', 'order.approved')
                AND e.occurred_at >= %(start)s AND e.occurred_at < %(end)s
                AND e.properties->>'reader_id' IS NOT NULL
              GROUP BY 1) d
        JOIN accounts_user u ON u.id = d.reader_id
    """,
    Rule.REFUND_LOOP: """
        SELECT o.client_id AS subject_id, '' AS scope, count(*) AS refunds,
               u.country AS _country, count(*) AS _count, NULL::numeric AS _rate
        FROM marketplace_payment p JOIN marketplace_order o ON o.id = p.order_id
        JOIN accounts_user u ON u.id = o.client_id
        WHERE p.status = 'refunded' AND p.updated_at >= %(start)s AND p.updated_at < %(end)s
        GROUP BY o.client_id, u.country
    """,
    Rule.CALL_DROPS: """
        SELECT c.reader_id AS subject_id, '' AS scope, count(*) FILTER (WHERE c.status = 'dropped') AS dropped,
               count(*) AS calls, round(count(*) FILTER (WHERE c.status = 'dropped')::numeric / count(*), 4) AS rate,
               u.country AS _country, count(*) AS _count,
               count(*) FILTER (WHERE c.status = 'dropped')::numeric / count(*) AS _rate
        FROM marketplace_call c JOIN accounts_user u ON u.id = c.reader_id
        WHERE c.status IN ('answered', 'ended', 'dropped')
          AND c.scheduled_at >= %(start)s AND c.scheduled_at < %(end)s
        GROUP BY c.reader_id, u.country
    """,
    # A fallback counts against the provider (and country) of the payment that failed and was replaced.
    Rule.PAYMENT_FALLBACK: """
        SELECT NULL::bigint AS subject_id, 'provider:' || a.provider || ':' || a.country AS scope,
               f.fallbacks, a.attempts, round(f.fallbacks::numeric / a.attempts, 4) AS rate,
               a.country AS _country, f.fallbacks AS _count, f.fallbacks::numeric / a.attempts AS _rate
        FROM (SELECT provider, country, count(*) AS attempts FROM marketplace_payment
              WHERE created_at >= %(start)s AND created_at < %(end)s GROUP BY 1, 2) a
        JOIN (SELECT failed.provider, failed.country, count(*) AS fallbacks
              FROM marketplace_payment p JOIN marketplace_payment failed ON failed.id = p.fallback_of_id
              WHERE p.created_at >= %(start)s AND p.created_at < %(end)s GROUP BY 1, 2) f
          ON f.provider = a.provider AND f.country = a.country
    """,
    Rule.SPAM_ORDERS: """
        SELECT o.client_id AS subject_id, '' AS scope, count(*) AS orders,
               u.country AS _country, count(*) AS _count, NULL::numeric AS _rate
        FROM marketplace_order o JOIN accounts_user u ON u.id = o.client_id
        WHERE o.created_at >= %(start)s AND o.created_at < %(end)s
        GROUP BY o.client_id, u.country
    """,
}

_OPEN = """
    WITH candidates AS ({findings}),
    findings AS (
        SELECT c.* FROM candidates c
        LEFT JOIN moderation_sweeprulecountry t ON t.rule_id = %(rule_id)s AND t.country = c._country
        WHERE c._count >= coalesce(t.min_count, %(min_count)s)
          AND (c._rate IS NULL OR c._rate > coalesce(t.max_rate, %(max_rate)s))
    ),
    keyed AS (
        SELECT f.*, %(rule)s::text || ':' || coalesce(f.subject_id::text, f.scope) || ':' || %(day)s::text AS key FROM findings f
    ),
    opened AS (
        INSERT INTO moderation_case (subject_id, scope, reason_id, source, status, priority, team, opened_at,
                                     sla_due_at, resolution_note, dedupe_key, details)
        SELECT k.subject_id, k.scope, %(reason_id)s, 'sweep', 'open', %(priority)s, 'monitors', %(now)s,
               %(sla_due_at)s, '', k.key,
               to_jsonb(k) - 'key' - 'scope' - 'subject_id' - '_country' - '_count' - '_rate'
                 || jsonb_build_object('rule', %(rule)s::text)
        FROM keyed k
        ON CONFLICT (dedupe_key) DO NOTHING
        RETURNING id, dedupe_key, details
    )
    SELECT o.id, k.subject_id, k.scope, o.details FROM opened o JOIN keyed k ON k.key = o.dedupe_key ORDER BY o.id
"""


def _window_end(day: dt.date, now: dt.datetime) -> dt.datetime:
    """Today's sweep looks back from now; a past day's from the end of that day (UTC)."""
    if day >= now.date():
        return now
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)


def _audit_details(details: str) -> dict:
    # The audit trail takes codes, not floats: rates travel as their exact text ("0.6250").
    return json.loads(details, parse_float=str)


def rule_run(*, rule: SweepRule, day: dt.date, now: dt.datetime) -> list[Case]:
    """Run one rule for `day`: open a case per new finding and audit it; return the cases opened."""
    end = _window_end(day, now)
    params = {
        "start": end - dt.timedelta(hours=rule.window_hours),
        "end": end,
        "min_count": rule.min_count,
        "max_rate": rule.max_rate,
        "rule_id": rule.pk,
        "rule": rule.rule,
        "day": day.isoformat(),
        "reason_id": rule.reason_id,
        "priority": rule.severity,
        "now": now,
        "sla_due_at": Case.due_at(now, rule.severity),
    }
    with connection.cursor() as cursor:
        cursor.execute(_OPEN.format(findings=FINDINGS[rule.rule]), params)
        opened = cursor.fetchall()
    for case_id, subject_id, scope, details in opened:
        audit.record(
            action="moderation.case.open",
            actor=SYSTEM_SWEEPS,
            target=("moderation.case", case_id),
            details={
                "source": "sweep",
                "reason": rule.reason.code,
                "subject_id": subject_id,
                "scope": scope,
                **_audit_details(details),
            },
        )
    return list(Case.objects.filter(pk__in=[row[0] for row in opened]).order_by("id"))


@transaction.atomic
def sweeps_run(*, day: dt.date | None = None, rules: list[str] | None = None) -> list[Case]:
    """Run the active sweep rules (all, or `rules`) for `day` (default today, UTC); return the cases opened.

    Idempotent per day: a finding already opened today is skipped.
    """
    now = timezone.now()
    day = day or now.astimezone(dt.UTC).date()
    active = SweepRule.objects.filter(is_active=True).select_related("reason").order_by("rule")
    if rules is not None:
        active = active.filter(rule__in=rules)
    opened: list[Case] = []
    for rule in active:
        opened += rule_run(rule=rule, day=day, now=now)
    return opened
