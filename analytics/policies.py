"""Who reads the analytics aggregates. Rollups write them as the service role; nobody writes through the API.

Admins read everything; monitors the moderation family (decisions, refunds, call drops); a reader
their own performance rows; clients nothing.
"""

from samia.rls.conditions import Mine
from samia.rls.registry import ADMINS, STAFF, allow, declare

FULFILLMENT_TABLE = "metrics_daily_fulfillment"
MODERATION_TABLE = "metrics_daily_moderation"
PAYMENTS_TABLE = "metrics_daily_payments"
CALLS_TABLE = "metrics_daily_calls"
ENGAGEMENT_TABLE = "metrics_daily_engagement"
CONTENT_TABLE = "metrics_daily_content"
NOTIFICATIONS_TABLE = "metrics_daily_notifications"

FULFILLMENT = declare(
    "analytics.DailyFulfillment",
    allow("select", ADMINS),
    allow("select", "reader", Mine("reader_id")),
    module=__name__,
)
MODERATION = declare(
    "analytics.DailyModeration",
    allow("select", STAFF),
    allow("select", "reader", Mine("reader_id")),
    module=__name__,
)
CALLS = declare(
    "analytics.DailyCalls",
    allow("select", ADMINS),
    allow("select", "reader", Mine("reader_id")),
    module=__name__,
)
PAYMENTS = declare("analytics.DailyPayments", allow("select", ADMINS), module=__name__)
ENGAGEMENT = declare("analytics.DailyEngagement", allow("select", ADMINS), module=__name__)
ACTIVITY_BLOCKS = declare("analytics.ActorActivityBlock", allow("select", ADMINS), module=__name__)
FIRST_SEEN = declare("analytics.ActorFirstSeen", allow("select", ADMINS), module=__name__)
CONTENT = declare("analytics.DailyContent", allow("select", ADMINS), module=__name__)
NOTIFICATIONS = declare("analytics.DailyNotifications", allow("select", ADMINS), module=__name__)
ACTIVE_USERS = declare("analytics.DailyActiveUsers", allow("select", ADMINS), module=__name__)
RETENTION = declare("analytics.RetentionCohort", allow("select", ADMINS), module=__name__)
TIMELINE = declare("analytics.OrderTimeline", allow("select", ADMINS), module=__name__)
ROLLED_UP_DAYS = declare("analytics.RolledUpDay", allow("select", ADMINS), module=__name__)

# Bucketed TTF durations: the admins' long-range percentiles read them (readers use their own exact rows).
TTF_HISTOGRAM = declare("analytics.DailyTtfHistogram", allow("select", ADMINS), module=__name__)
