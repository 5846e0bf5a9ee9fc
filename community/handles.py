"""The only name a community author has: member-<first 8 hex of HMAC-SHA256(COMMUNITY_HANDLE_KEY, user id)>."""

import hashlib
import hmac

from django.conf import settings


def handle(user_id: int) -> str:
    """Return the stable pseudonym of user `user_id` (no id, name, email or phone can be read back from it)."""
    digest = hmac.new(settings.COMMUNITY_HANDLE_KEY.encode(), str(user_id).encode(), hashlib.sha256).hexdigest()
    return f"member-{digest[:8]}"
