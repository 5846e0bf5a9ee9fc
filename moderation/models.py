import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Severity(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    CRITICAL = "critical", _("Critical")


# How long a case of each severity may wait; a case's priority is its severity.
SLA = {
    Severity.CRITICAL: dt.timedelta(hours=2),
    Severity.HIGH: dt.timedelta(hours=8),
    Severity.MEDIUM: dt.timedelta(hours=24),
    Severity.LOW: dt.timedelta(hours=72),
}
SEVERITY_ORDER = [Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL]


class ReasonCode(models.Model):
    code = models.SlugField(max_length=40, unique=True, verbose_name=_("code"))
    label = models.CharField(max_length=120, verbose_name=_("label"))
    severity = models.CharField(
        max_length=8, choices=Severity.choices, default=Severity.MEDIUM, verbose_name=_("severity")
    )
    is_active = models.BooleanField(default=True, verbose_name=_("is active"))

    class Meta:
        verbose_name = _("reason code")
        verbose_name_plural = _("reason codes")
        ordering = ["code"]

    def __str__(self):
        return self.label or self.code


class Case(models.Model):
    class Source(models.TextChoices):
        MANUAL = "manual", _("Manual")
        SWEEP = "sweep", _("Sweep")
        COMMUNITY = "community", _("Community")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        IN_REVIEW = "in_review", _("In review")
        ESCALATED = "escalated", _("Escalated")
        RESOLVED = "resolved", _("Resolved")

    class Team(models.TextChoices):
        MONITORS = "monitors", _("Monitors")
        ADMINS = "admins", _("Admins")

    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="moderation_cases",
        db_index=False,
        help_text=_("The user the case is about; empty when it is about something else (see scope)."),
        verbose_name=_("subject"),
    )
    scope = models.CharField(
        max_length=80,
        blank=True,
        help_text=_("What a case without a subject is about, e.g. provider:stripe:SA or audit:chain."),
        verbose_name=_("scope"),
    )
    order = models.ForeignKey(
        "marketplace.Order",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        verbose_name=_("order"),
    )
    media = models.ForeignKey(
        "marketplace.MediaAsset",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        verbose_name=_("media"),
    )
    call = models.ForeignKey(
        "marketplace.Call",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        verbose_name=_("call"),
    )
    reason = models.ForeignKey(ReasonCode, on_delete=models.PROTECT, related_name="cases", verbose_name=_("reason"))
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.MANUAL, verbose_name=_("source"))
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN, verbose_name=_("status"))
    priority = models.CharField(max_length=8, choices=Severity.choices, verbose_name=_("priority"))
    team = models.CharField(max_length=8, choices=Team.choices, default=Team.MONITORS, verbose_name=_("team"))
    opened_at = models.DateTimeField(default=timezone.now, verbose_name=_("opened at"))
    sla_due_at = models.DateTimeField(verbose_name=_("SLA due at"))
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        verbose_name=_("assignee"),
    )
    resolution_note = models.TextField(max_length=2000, blank=True, verbose_name=_("resolution note"))
    resolved_at = models.DateTimeField(null=True, blank=True, verbose_name=_("resolved at"))
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("resolved by"),
    )
    dedupe_key = models.CharField(
        max_length=120,
        unique=True,
        null=True,
        blank=True,
        help_text=_("Sweeps: rule + subject or scope + day."),
        verbose_name=_("dedupe key"),
    )
    details = models.JSONField(
        default=dict,
        blank=True,
        help_text=_("Sweeps and jobs: the figures behind the finding."),
        verbose_name=_("details"),
    )

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        indexes = [
            # The queue: unresolved cases, oldest due first.
            models.Index(fields=["status", "sla_due_at", "id"], name="case_queue_idx"),
            models.Index(fields=["subject", "status"], name="case_subject_idx"),
            models.Index(fields=["order"], name="case_order_idx"),
            models.Index(fields=["assignee", "status"], name="case_assignee_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["open", "in_review", "escalated", "resolved"]), name="case_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(status="resolved", resolved_at__isnull=False) | ~Q(status="resolved"),
                name="case_resolved_stamped",
            ),
            # A case is about a user, or (sweeps over providers, the audit job) about a named scope.
            models.CheckConstraint(condition=Q(subject__isnull=False) | ~Q(scope=""), name="case_subject_or_scope"),
        ]

    def __str__(self):
        return _("Case #%(id)s · %(status)s") % {"id": self.pk, "status": self.get_status_display()}

    @staticmethod
    def due_at(opened_at: dt.datetime, severity: str) -> dt.datetime:
        return opened_at + SLA[severity]


class ModerationAction(models.Model):
    class Code(models.TextChoices):
        BLOCK = "block", _("Block user")
        UNBLOCK = "unblock", _("Unblock user")
        HOLD = "hold", _("Hold order")
        UNLIST = "unlist", _("Unlist order")
        RELEASE = "release", _("Release order")
        REMOVE_MEDIA = "remove_media", _("Remove media")
        ESCALATE = "escalate", _("Escalate case")
        END_CALL = "end_call", _("End call")
        FLAG = "flag", _("Flag")
        APPROVE_COMMENT = "approve_comment", _("Approve comment")
        HIDE_COMMENT = "hide_comment", _("Hide comment")
        REMOVE_COMMENT = "remove_comment", _("Remove comment")

    class TargetType(models.TextChoices):
        USER = "user", _("User")
        ORDER = "order", _("Order")
        MEDIA = "media", _("Media")
        CALL = "call", _("Call")
        COMMENT = "comment", _("Comment")

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("actor")
    )
    action = models.CharField(max_length=16, choices=Code.choices, verbose_name=_("action"))
    target_type = models.CharField(max_length=8, choices=TargetType.choices, verbose_name=_("target type"))
    target_id = models.BigIntegerField(verbose_name=_("target ID"))
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="moderation_actions",
        db_index=False,
        help_text=_("The user the action restricts; they see it and may appeal it."),
        verbose_name=_("subject"),
    )
    reason = models.ForeignKey(ReasonCode, on_delete=models.PROTECT, related_name="actions", verbose_name=_("reason"))
    evidence = models.JSONField(
        default=list, blank=True, help_text=_("IDs and hashes only."), verbose_name=_("evidence")
    )
    duration = models.DurationField(
        null=True, blank=True, help_text=_("Empty: indefinite."), verbose_name=_("duration")
    )
    expires_at = models.DateTimeField(null=True, blank=True, verbose_name=_("expires at"))
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="actions", verbose_name=_("case"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    lifted_at = models.DateTimeField(null=True, blank=True, verbose_name=_("lifted at"))
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("lifted by"),
    )
    lift_reason = models.CharField(
        max_length=16,
        blank=True,
        help_text=_("unblocked, released, expired, overturned, superseded, modified."),
        verbose_name=_("lift reason"),
    )

    class Meta:
        verbose_name = _("moderation action")
        verbose_name_plural = _("moderation actions")
        indexes = [
            models.Index(fields=["subject", "-id"], name="action_subject_recent_idx"),
            models.Index(fields=["target_type", "target_id"], name="action_target_idx"),
            models.Index(fields=["action", "expires_at"], name="action_expiry_idx"),
        ]

    def __str__(self):
        return f"{self.get_action_display()} · {self.get_target_type_display()} #{self.target_id}"

    @property
    def is_in_force(self) -> bool:
        return self.lifted_at is None and (self.expires_at is None or self.expires_at > timezone.now())


class Appeal(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DECIDED = "decided", _("Decided")

    class Decision(models.TextChoices):
        UPHOLD = "uphold", _("Uphold")
        OVERTURN = "overturn", _("Overturn")
        MODIFY = "modify", _("Modify")

    action = models.OneToOneField(
        ModerationAction, on_delete=models.PROTECT, related_name="appeal", verbose_name=_("action")
    )
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="appeals",
        db_index=False,
        verbose_name=_("subject"),
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("opened by")
    )
    statement = models.TextField(max_length=2000, blank=True, verbose_name=_("statement"))
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN, verbose_name=_("status"))
    opened_at = models.DateTimeField(default=timezone.now, verbose_name=_("opened at"))
    decision = models.CharField(max_length=8, choices=Decision.choices, blank=True, verbose_name=_("decision"))
    decided_at = models.DateTimeField(null=True, blank=True, verbose_name=_("decided at"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    notes = models.TextField(
        max_length=2000, blank=True, help_text=_("The decision's rationale."), verbose_name=_("notes")
    )
    replacement = models.OneToOneField(
        ModerationAction,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Modify: the action that replaced the appealed one (a hold instead of an unlisting)."),
        verbose_name=_("replacement"),
    )

    class Meta:
        verbose_name = _("appeal")
        verbose_name_plural = _("appeals")
        indexes = [
            models.Index(fields=["subject", "-id"], name="appeal_subject_recent_idx"),
            models.Index(fields=["status", "opened_at"], name="appeal_status_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="open", decided_at__isnull=True, decision="")
                | Q(status="decided", decided_at__isnull=False, decision__in=["uphold", "overturn", "modify"]),
                name="appeal_decision_consistent",
            ),
        ]

    def __str__(self):
        text = _("Appeal #%(id)s · %(status)s") % {"id": self.pk, "status": self.get_status_display()}
        return f"{text} ({self.get_decision_display()})" if self.decision else text


class SweepRule(models.Model):
    """The thresholds of one nightly sweep; admins edit them in the back office."""

    class Rule(models.TextChoices):
        REJECT_RATE = "reject_rate", _("Abnormal reject rate per reader")
        REFUND_LOOP = "refund_loop", _("Refund loops per client")
        CALL_DROPS = "call_drops", _("High call-drop rate per reader")
        PAYMENT_FALLBACK = "payment_fallback", _("Payment fallback spikes per provider and country")
        SPAM_ORDERS = "spam_orders", _("Spam or bulk orders per client")

    # Rules that compare a rate with max_rate; the others count only.
    RATE_RULES = (Rule.REJECT_RATE, Rule.CALL_DROPS, Rule.PAYMENT_FALLBACK)

    rule = models.CharField(max_length=20, choices=Rule.choices, unique=True, verbose_name=_("rule"))
    is_active = models.BooleanField(default=True, verbose_name=_("is active"))
    window_hours = models.PositiveIntegerField(
        help_text=_("How far back the sweep looks (168 = 7 days)."), verbose_name=_("window hours")
    )
    min_count = models.PositiveIntegerField(
        help_text=_(
            "Rate rules: the fewest decisions, calls or fallbacks before the rate counts. "
            "Count rules: the number of refunds or orders that trips the rule."
        ),
        verbose_name=_("min count"),
    )
    max_rate = models.DecimalField(
        max_digits=5,
        decimal_places=4,
        null=True,
        blank=True,
        help_text=_("Rate rules: a rate above this (0 to 1) trips the rule."),
        verbose_name=_("max rate"),
    )
    reason = models.ForeignKey(ReasonCode, on_delete=models.PROTECT, related_name="+", verbose_name=_("reason"))
    severity = models.CharField(
        max_length=8,
        choices=Severity.choices,
        help_text=_("The priority of the cases this rule opens."),
        verbose_name=_("severity"),
    )

    class Meta:
        verbose_name = _("sweep rule")
        verbose_name_plural = _("sweep rules")
        ordering = ["rule"]
        constraints = [
            models.CheckConstraint(condition=Q(window_hours__gte=1), name="sweeprule_window_positive"),
            models.CheckConstraint(condition=Q(min_count__gte=1), name="sweeprule_min_count_positive"),
            models.CheckConstraint(
                condition=Q(max_rate__gte=0, max_rate__lte=1)
                | Q(max_rate__isnull=True, rule__in=["refund_loop", "spam_orders"]),
                name="sweeprule_rate_valid",
            ),
        ]

    def __str__(self):
        return self.get_rule_display()


class SweepRuleCountry(models.Model):
    """A rule's thresholds for one country (e.g. more call drops where networks are worse); empty = the rule's."""

    rule = models.ForeignKey(
        SweepRule, on_delete=models.CASCADE, related_name="countries", db_index=False, verbose_name=_("rule")
    )
    country = models.CharField(
        max_length=2, help_text=_("ISO 3166-1 alpha-2, upper case (SA, EG, ...)."), verbose_name=_("country")
    )
    min_count = models.PositiveIntegerField(
        null=True, blank=True, help_text=_("Empty: the rule's own."), verbose_name=_("min count")
    )
    max_rate = models.DecimalField(
        max_digits=5,
        decimal_places=4,
        null=True,
        blank=True,
        help_text=_("Rate rules only (0 to 1). Empty: the rule's own."),
        verbose_name=_("max rate"),
    )

    class Meta:
        verbose_name = _("sweep rule country override")
        verbose_name_plural = _("sweep rule country overrides")
        ordering = ["rule", "country"]
        constraints = [
            models.UniqueConstraint(fields=["rule", "country"], name="sweeprulecountry_unique"),
            models.CheckConstraint(condition=Q(country__regex=r"^[A-Z]{2}$"), name="sweeprulecountry_country_code"),
            models.CheckConstraint(
                condition=Q(min_count__isnull=True) | Q(min_count__gte=1), name="sweeprulecountry_min_count_positive"
            ),
            models.CheckConstraint(
                condition=Q(max_rate__isnull=True) | Q(max_rate__gte=0, max_rate__lte=1),
                name="sweeprulecountry_rate_valid",
            ),
        ]

    def __str__(self):
        return f"{self.rule}:{self.country}"


class LineageEdge(models.Model):
    """One link of a case's evidence graph (order -> media, call or payment), rebuilt from real rows."""

    class NodeType(models.TextChoices):
        ORDER = "order", _("Order")
        MEDIA = "media", _("Media")
        CALL = "call", _("Call")
        PAYMENT = "payment", _("Payment")

    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="lineage", db_index=False, verbose_name=_("case")
    )
    from_type = models.CharField(max_length=8, choices=NodeType.choices, verbose_name=_("from type"))
    from_id = models.BigIntegerField(verbose_name=_("from ID"))
    to_type = models.CharField(max_length=8, choices=NodeType.choices, verbose_name=_("to type"))
    to_id = models.BigIntegerField(verbose_name=_("to ID"))

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["case", "from_type", "from_id", "to_type", "to_id"], name="lineage_edge_unique"
            ),
        ]

    def __str__(self):
        return f"{self.get_from_type_display()} #{self.from_id} → {self.get_to_type_display()} #{self.to_id}"
