"""The moderation back office: cases and appeals worked through the services, actions read, vocabulary tuned."""

from moderation.admin import appeals, cases, reference, users  # noqa: F401  (each module registers its admins)
