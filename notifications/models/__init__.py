"""Notifications: who agreed to hear what, on which channel, and every message planned or sent.

Tables and what they hold (no message body is ever logged; bodies live only in the rows that
must render them):
- DeviceToken: a user's push tokens (FCM or APNs), deactivated when the provider says they are dead.
- Consent: an append-only record per (user, channel, purpose); the latest row is the current choice.
- Suppression: addresses or users a channel must not reach (hard bounce, complaint, STOP, dead
  token, manual); active until lifted, checked at send time.
- Audience / Campaign: who a bulk message goes to, in which languages, when in their local time.
- Notification: one transactional or staff-triggered message to one user.
- Send: one message to one recipient on one channel, with a delivery state that only moves forward.
- Bounce: a provider's report that a sent message did not arrive.
- WebhookEvent: the inbox of verified webhooks and tracking hits, processed by a job.
"""

from notifications.models.messages import (
    DEFAULT_AUDIENCE_ROLES,
    Audience,
    Bounce,
    Campaign,
    ConversationWindow,
    Cursor,
    Encoding,
    Notification,
    Send,
    WebhookEvent,
)
from notifications.models.preferences import (
    OPT_IN_PURPOSES,
    Channel,
    Consent,
    DeviceToken,
    LiftReason,
    Purpose,
    Suppression,
)

__all__ = [
    "DEFAULT_AUDIENCE_ROLES",
    "OPT_IN_PURPOSES",
    "Audience",
    "Bounce",
    "Campaign",
    "Channel",
    "Consent",
    "ConversationWindow",
    "Cursor",
    "DeviceToken",
    "Encoding",
    "LiftReason",
    "Notification",
    "Purpose",
    "Send",
    "Suppression",
    "WebhookEvent",
]
