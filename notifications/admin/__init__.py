"""Back office for notifications: campaigns (`campaigns`, `templates`), suppressions, and the
read-only histories; `display` says how people, times and refusals are shown."""

from notifications.admin import campaigns, histories, suppressions

__all__ = ["campaigns", "histories", "suppressions"]
