"""Who is calling: the identity lookup that precedes binding.

The request already runs as the app role with no identity here; users are read
through SECURITY DEFINER functions that return exactly one account, so not even
this lookup runs as the service role.
"""

from __future__ import annotations

from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import AccessToken

from samia.accounts.models import User
from samia.rls.registry import ANONYMOUS_IDENTITY, Identity

BACKOFFICE_PREFIX = "/backoffice/"


def user_by_id(user_id) -> User | None:
    """Return the account with this id, or None."""
    try:
        user_id = int(user_id)
    except (TypeError, ValueError):
        return None
    return next(iter(User.objects.raw("SELECT * FROM samia.identity(%s)", [user_id])), None)


def user_by_email(email: str) -> User | None:
    """Return the account with this email (case-insensitive), or None."""
    return next(iter(User.objects.raw("SELECT * FROM samia.identity_by_email(%s)", [email])), None)


def user_for_token(token) -> User | None:
    """Return the token's user while the token still speaks for them (same role, allowed to log in)."""
    user = user_by_id(token.get("user_id"))
    if user is None or not user.can_log_in or token.get("role") != user.role:
        return None
    return user


def claimed_identity(request) -> Identity:
    """Read who the caller says they are from the bearer token alone (no database)."""
    request.bearer_user = None
    request.bearer_error = None
    request.bearer_token = None
    if request.path.startswith(BACKOFFICE_PREFIX):
        return ANONYMOUS_IDENTITY
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if not header:
        return ANONYMOUS_IDENTITY
    scheme, _, raw = header.partition(" ")
    if scheme.lower() != "bearer" or not raw.strip():
        request.bearer_error = "The Authorization header must be 'Bearer <access token>'."
        return ANONYMOUS_IDENTITY
    try:
        token = AccessToken(raw.strip())
        identity = Identity(int(token["user_id"]), str(token["role"]))
    except (TokenError, KeyError, TypeError, ValueError):
        request.bearer_error = "The access token is invalid or expired."
        return ANONYMOUS_IDENTITY
    request.bearer_token = token
    return identity


def confirmed_identity(request, claimed: Identity) -> Identity:
    """Check the claim against the account: a session in the back office, the token's user elsewhere."""
    if request.path.startswith(BACKOFFICE_PREFIX):
        user = request.user
        if user.is_authenticated and user.can_log_in and user.is_staff:
            return Identity.of(user)
        return ANONYMOUS_IDENTITY
    if request.bearer_token is None:
        return ANONYMOUS_IDENTITY
    user = user_for_token(request.bearer_token)
    if user is None:
        request.bearer_error = "The access token no longer grants access; log in again."
        return ANONYMOUS_IDENTITY
    request.bearer_user = user
    return claimed
