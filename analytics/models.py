"""Daily aggregates of events_raw, cut in the business timezone; the metrics APIs read only these."""

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

# The count columns of the daily tables: the rollup fills them, the selectors sum them.
ORDER_COUNTS = (  # DailyFulfillment: one per order.<name> event
    "created",
    "assigned",
    "started",
    "submitted",
    "approved",
    "rejected",
    "delivered",
    "cancelled",
    "refunded",
)
# DailyFulfillment: orders delivered / cancelled on the row's day that have a refund (at any time), from the
# order timeline; the refund rates divide these by delivered / cancelled, so they stay within 0..1.
REFUND_COUNTS = ("delivered_refunded", "cancelled_refunded")
MODERATION_COUNTS = (
    "approved",
    "rejected",
    "delivered",
    "refunded",
    "delivered_refunded",
    "calls_answered",
    "calls_dropped",
    "calls_ended",
)
PAYMENT_COUNTS = ("attempts", "succeeded", "failed", "fallbacks", "refunded")
CALL_COUNTS = ("scheduled", "answered", "dropped", "ended")  # one per call.<name> event
CONTENT_COUNTS = ("listens", "listened_through")
# DailyContent: the approval of the day's horoscopes (the day is the horoscope's date).
APPROVAL_COUNTS = ("submitted", "approved", "rejected", "cohort_pushes", "approved_before_push")
NOTIFICATION_COUNTS = ("sent", "delivered", "opened", "clicked")  # one per notification.<name> event


class DailyFulfillment(models.Model):
    """Order counts per (day, service, reader), and the TTF durations of orders that reached a milestone that day."""

    day = models.DateField(verbose_name=_("day"))
    service = models.CharField(max_length=16, verbose_name=_("service"))
    reader_id = models.BigIntegerField(null=True, verbose_name=_("reader ID"))
    created = models.IntegerField(default=0, verbose_name=pgettext_lazy("count", "created"))
    assigned = models.IntegerField(default=0, verbose_name=pgettext_lazy("count", "assigned"))
    started = models.IntegerField(default=0, verbose_name=pgettext_lazy("count", "started"))
    submitted = models.IntegerField(default=0, verbose_name=pgettext_lazy("count", "submitted"))
    approved = models.IntegerField(default=0, verbose_name=pgettext_lazy("count", "approved"))
    rejected = models.IntegerField(default=0, verbose_name=_("rejected"))
    delivered = models.IntegerField(default=0, verbose_name=pgettext_lazy("count", "delivered"))
    cancelled = models.IntegerField(default=0, verbose_name=pgettext_lazy("count", "cancelled"))
    refunded = models.IntegerField(default=0, verbose_name=_("refunded"))
    delivered_refunded = models.IntegerField(
        default=0, help_text=_("Orders delivered this day that have a refund."), verbose_name=_("delivered refunded")
    )
    cancelled_refunded = models.IntegerField(
        default=0, help_text=_("Orders cancelled this day that have a refund."), verbose_name=_("cancelled refunded")
    )
    # Seconds from order.created to the first order.started / order.delivered, one entry per order,
    # filed on the day of the milestone: exact percentiles over any date range.
    ttf_response_seconds = ArrayField(models.IntegerField(), default=list, verbose_name=_("TTF-Response seconds"))
    ttf_delivery_seconds = ArrayField(models.IntegerField(), default=list, verbose_name=_("TTF-Delivery seconds"))

    class Meta:
        db_table = "metrics_daily_fulfillment"
        constraints = [
            models.UniqueConstraint(
                fields=["day", "service", "reader_id"], name="fulfillment_day_key", nulls_distinct=False
            )
        ]
        indexes = [models.Index(fields=["reader_id", "day"], name="fulfillment_reader_day_idx")]

    def __str__(self):
        return f"fulfillment {self.day} {self.service} {self.reader_id}"


class DailyModeration(models.Model):
    """What monitors watch, per (day, reader): reading decisions, deliveries, refunds and call outcomes."""

    day = models.DateField(verbose_name=_("day"))
    reader_id = models.BigIntegerField(null=True, verbose_name=_("reader ID"))
    approved = models.IntegerField(default=0, verbose_name=pgettext_lazy("count", "approved"))
    rejected = models.IntegerField(default=0, verbose_name=_("rejected"))
    delivered = models.IntegerField(default=0, verbose_name=pgettext_lazy("count", "delivered"))
    refunded = models.IntegerField(default=0, verbose_name=_("refunded"))
    delivered_refunded = models.IntegerField(
        default=0, help_text=_("Orders delivered this day that have a refund."), verbose_name=_("delivered refunded")
    )
    calls_answered = models.IntegerField(default=0, verbose_name=_("calls answered"))
    calls_dropped = models.IntegerField(default=0, verbose_name=_("calls dropped"))
    calls_ended = models.IntegerField(default=0, verbose_name=_("calls ended"))

    class Meta:
        db_table = "metrics_daily_moderation"
        constraints = [
            models.UniqueConstraint(fields=["day", "reader_id"], name="moderation_day_key", nulls_distinct=False)
        ]
        indexes = [models.Index(fields=["reader_id", "day"], name="moderation_reader_day_idx")]

    def __str__(self):
        return f"moderation {self.day} {self.reader_id}"


class DailyTtfHistogram(models.Model):
    """TTF durations per (day, service, kind) counted in buckets, for percentiles over long ranges.

    Buckets 0..63 hold one whole second each (exact); above, each bucket is 2% wider than the one
    before (bucket b >= 64 covers [64 * 1.02^(b-64), 64 * 1.02^(b-63)) seconds), so a percentile read
    from it is within 2% of the exact one. Filled from metrics_daily_fulfillment by the rollup.
    """

    class Kind(models.TextChoices):
        RESPONSE = "response", _("TTF-Response")
        DELIVERY = "delivery", _("TTF-Delivery")

    day = models.DateField(verbose_name=_("day"))
    service = models.CharField(max_length=16, verbose_name=_("service"))
    kind = models.CharField(max_length=8, choices=Kind.choices, verbose_name=_("kind"))
    bucket = models.SmallIntegerField(verbose_name=_("bucket"))
    count = models.IntegerField(verbose_name=_("count"))

    class Meta:
        db_table = "metrics_daily_ttf_histogram"
        constraints = [
            models.UniqueConstraint(fields=["day", "service", "kind", "bucket"], name="ttf_histogram_key"),
        ]

    def __str__(self):
        return f"{self.kind} {self.day} {self.service} #{self.bucket}"


class DailyPayments(models.Model):
    day = models.DateField(verbose_name=_("day"))
    provider = models.CharField(max_length=16, verbose_name=_("provider"))
    country = models.CharField(max_length=2, verbose_name=_("country"))
    attempts = models.IntegerField(default=0, verbose_name=_("attempts"))
    succeeded = models.IntegerField(default=0, verbose_name=_("succeeded"))
    failed = models.IntegerField(default=0, verbose_name=_("failed"))
    fallbacks = models.IntegerField(default=0, verbose_name=_("fallbacks"))
    refunded = models.IntegerField(default=0, verbose_name=_("refunded"))

    class Meta:
        db_table = "metrics_daily_payments"
        constraints = [models.UniqueConstraint(fields=["day", "provider", "country"], name="payments_day_key")]

    def __str__(self):
        return f"payments {self.day} {self.provider} {self.country}"


class DailyCalls(models.Model):
    day = models.DateField(verbose_name=_("day"))
    reader_id = models.BigIntegerField(null=True, verbose_name=_("reader ID"))
    scheduled = models.IntegerField(default=0, verbose_name=pgettext_lazy("count", "scheduled"))
    answered = models.IntegerField(default=0, verbose_name=pgettext_lazy("count", "answered"))
    dropped = models.IntegerField(default=0, verbose_name=_("dropped"))
    ended = models.IntegerField(default=0, verbose_name=pgettext_lazy("count", "ended"))

    class Meta:
        db_table = "metrics_daily_calls"
        constraints = [models.UniqueConstraint(fields=["day", "reader_id"], name="calls_day_key", nulls_distinct=False)]
        indexes = [models.Index(fields=["reader_id", "day"], name="calls_reader_day_idx")]

    def __str__(self):
        return f"calls {self.day} {self.reader_id}"


class DailyEngagement(models.Model):
    day = models.DateField(unique=True, verbose_name=_("day"))
    dau = models.IntegerField(default=0, verbose_name=_("DAU"))
    sessions = models.IntegerField(default=0, verbose_name=_("sessions"))

    class Meta:
        db_table = "metrics_daily_engagement"

    def __str__(self):
        return f"engagement {self.day}"


class ActorActivityBlock(models.Model):
    """The days an actor was active, one bit per day, in blocks of 64 days (block n covers the days
    64n..64n+63 counted from 3 January 2000): the only record of who was active when. DAU/WAU/MAU,
    distinct actors over a range and the retention cells read one or two rows per actor here; the rollup
    (analytics.rollups.sql.ACTIVE_SQL) sets and clears the bits from the app.session events."""

    block = models.IntegerField(verbose_name=_("block"))
    # Byte order ("C"): these keys are sorted, hashed and compared millions of times by the rollup, and a
    # locale-aware comparison cost more than half of an insert (5.9 s -> 3.6 s for 600k rows).
    actor = models.CharField(
        max_length=40,
        db_collation="C",
        help_text=_("u:<user id> or k:<keyed hash>; never personal data."),
        verbose_name=_("actor"),
    )
    days = models.BigIntegerField(
        help_text=_("Bit i set: active on the block's day i (bit 63 is the sign bit)."), verbose_name=_("days")
    )

    class Meta:
        db_table = "metrics_actor_activity_block"
        constraints = [models.UniqueConstraint(fields=["block", "actor"], name="activity_block_actor_key")]

    def __str__(self):
        return f"{self.actor} block {self.block}"


class ActorFirstSeen(models.Model):
    """The day each actor was first active: the signup day that places it in a retention cohort."""

    actor = models.CharField(max_length=40, primary_key=True, db_collation="C", verbose_name=_("actor"))
    first_day = models.DateField(db_index=True, verbose_name=_("first day"))

    class Meta:
        db_table = "metrics_actor_first_seen"

    def __str__(self):
        return f"{self.actor} {self.first_day}"


class DailyContent(models.Model):
    """Listens per (day, sign), and the approval of each day's horoscope of a sign, per language.

    language "" holds the listens (the event carries no language) and the horoscope itself; "en", "ar"
    hold its text in that language (a horoscope counts once in each language it is written in)."""

    day = models.DateField(verbose_name=_("day"))
    sign = models.CharField(max_length=12, verbose_name=_("sign"))
    language = models.CharField(max_length=8, blank=True, default="", verbose_name=_("language"))
    listens = models.IntegerField(default=0, verbose_name=_("listens"))
    listened_through = models.IntegerField(default=0, verbose_name=_("listened through"))
    submitted = models.IntegerField(
        default=0, help_text=_("Horoscopes written for this day."), verbose_name=pgettext_lazy("count", "submitted")
    )
    approved = models.IntegerField(default=0, verbose_name=pgettext_lazy("count", "approved"))
    rejected = models.IntegerField(default=0, verbose_name=_("rejected"))
    # Seconds from creation to approval of each approved horoscope: exact percentiles over any range.
    approval_seconds = ArrayField(models.IntegerField(), default=list, verbose_name=_("approval seconds"))
    cohort_pushes = models.IntegerField(
        default=0,
        help_text=_("Cohorts (client time zones) with clients of the sign: one zodiac push each."),
        verbose_name=_("cohort pushes"),
    )
    approved_before_push = models.IntegerField(
        default=0,
        help_text=_("Those whose push time the horoscope was approved before."),
        verbose_name=_("approved before push"),
    )

    class Meta:
        db_table = "metrics_daily_content"
        constraints = [models.UniqueConstraint(fields=["day", "sign", "language"], name="content_day_key")]

    def __str__(self):
        return f"content {self.day} {self.sign} {self.language}"


class DailyNotifications(models.Model):
    day = models.DateField(verbose_name=_("day"))
    channel = models.CharField(max_length=16, verbose_name=_("channel"))
    campaign_id = models.BigIntegerField(null=True, verbose_name=_("campaign ID"))
    sent = models.IntegerField(default=0, verbose_name=pgettext_lazy("count", "sent"))
    delivered = models.IntegerField(default=0, verbose_name=pgettext_lazy("count", "delivered"))
    opened = models.IntegerField(default=0, verbose_name=_("opened"))
    clicked = models.IntegerField(default=0, verbose_name=_("clicked"))

    class Meta:
        db_table = "metrics_daily_notifications"
        constraints = [
            models.UniqueConstraint(
                fields=["day", "channel", "campaign_id"], name="notifications_day_key", nulls_distinct=False
            )
        ]

    def __str__(self):
        return f"notifications {self.day} {self.channel} {self.campaign_id}"


class OrderTimeline(models.Model):
    """First time each order was created / started / delivered / cancelled / refunded: the source of the TTF
    durations and of the refunds of delivered and of cancelled orders."""

    order_id = models.BigIntegerField(primary_key=True, verbose_name=_("order ID"))
    service = models.CharField(max_length=16, blank=True, verbose_name=_("service"))
    reader_id = models.BigIntegerField(null=True, verbose_name=_("reader ID"))
    created_at = models.DateTimeField(null=True, verbose_name=_("created at"))
    started_at = models.DateTimeField(null=True, verbose_name=_("started at"))
    delivered_at = models.DateTimeField(null=True, verbose_name=_("delivered at"))
    cancelled_at = models.DateTimeField(null=True, verbose_name=_("cancelled at"))
    refunded_at = models.DateTimeField(null=True, verbose_name=_("refunded at"))

    class Meta:
        db_table = "analytics_order_timeline"
        indexes = [
            models.Index(fields=["started_at"], name="timeline_started_idx"),
            models.Index(fields=["delivered_at"], name="timeline_delivered_idx"),
            # the few refunded orders, joined to each rollup's delivered and cancelled events
            models.Index(fields=["order_id"], condition=Q(refunded_at__isnull=False), name="timeline_refunded_idx"),
        ]

    def __str__(self):
        return f"order {self.order_id} timeline"


class DailyActiveUsers(models.Model):
    """DAU, WAU (distinct actors in the 7 days ending `day`) and MAU (30 days), precomputed by the rollup."""

    day = models.DateField(unique=True, verbose_name=_("day"))
    dau = models.IntegerField(default=0, verbose_name=_("DAU"))
    wau = models.IntegerField(default=0, verbose_name=_("WAU"))
    mau = models.IntegerField(default=0, verbose_name=_("MAU"))

    class Meta:
        db_table = "metrics_daily_active_users"

    def __str__(self):
        return f"active users {self.day}"


class RetentionCohort(models.Model):
    """Retention matrix cells: how many actors of the signup-week cohort were first active in week
    `week_n` (counted from the cohort week) on `day`. The week-N return through any day d is the sum
    of `actors` over the cells of (cohort_week, week_n) with day <= d, so partial weeks stay exact."""

    cohort_week = models.DateField(verbose_name=_("cohort week"))
    week_n = models.SmallIntegerField(verbose_name=_("week number"))
    day = models.DateField(verbose_name=_("day"))
    actors = models.IntegerField(default=0, verbose_name=_("actors"))

    class Meta:
        db_table = "metrics_retention_cohort"
        constraints = [models.UniqueConstraint(fields=["cohort_week", "day"], name="retention_cohort_day_key")]
        indexes = [models.Index(fields=["day"], name="retention_day_idx")]

    def __str__(self):
        return f"cohort {self.cohort_week} week {self.week_n} {self.day}"


class RolledUpDay(models.Model):
    """What a business day's aggregates were last computed from. The nightly run re-checks its late
    window against these and recomputes only the days whose events (or rollup settings and SQL) changed
    since; analytics_backfill always recomputes, and records them again."""

    day = models.DateField(primary_key=True, verbose_name=_("day"))
    events = models.BigIntegerField(
        help_text=_("Events of the day in events_raw when it was rolled up."), verbose_name=_("events")
    )
    fingerprint = models.CharField(
        max_length=32,
        help_text=_(
            "A hash of the day's event count, two XORs over their ids, the day's horoscopes, the business "
            "timezone, the listen-through threshold, the zodiac push cohorts and time, and the rollup SQL."
        ),
        verbose_name=_("fingerprint"),
    )
    rolled_at = models.DateTimeField(verbose_name=_("rolled at"))

    class Meta:
        db_table = "analytics_rolled_up_day"

    def __str__(self):
        return f"{self.day} ({self.events} events)"
