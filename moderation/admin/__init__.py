"""The moderation back office: cases and appeals worked through the services, actions read, vocabulary tuned."""

from moderation import admin_sweeps  # noqa: F401  (per-country sweep thresholds, issue 16)
from moderation.admin import appeals, cases, orders, reference, users  # noqa: F401  (each module registers its admins)
