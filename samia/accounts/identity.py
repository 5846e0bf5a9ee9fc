"""Who is calling: the identity lookup that precedes binding.

The request already runs as the app role with no identity here; users are read
through SECURITY DEFINER functions that return exactly one account, so not even
this lookup runs as the service role. They never return the password hash (see
samia/accounts/sql.py): `password_matches` has Postgres compare it.
"""

from __future__ import annotations

from django.contrib.auth.hashers import identify_hasher, make_password
from django.db import connection
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import AccessToken

from samia.accounts.models import User
from samia.rls import binding
from samia.rls.registry import ANONYMOUS_IDENTITY, Identity

BACKOFFICE_PREFIX = "/backoffice/"
# Ids are bigint: a larger number names nobody (and Postgres would refuse it).
MAX_USER_ID = 2**63 - 1


def _user_id(value) -> int | None:
    try:
        user_id = int(value)
    except (TypeError, ValueError):
        return None
    return user_id if -MAX_USER_ID <= user_id <= MAX_USER_ID else None


def user_by_id(user_id) -> User | None:
    """Return the account with this id, or None."""
    user_id = _user_id(user_id)
    if user_id is None:
        return None
    proof = binding.purpose_proof("identity", str(user_id))
    return next(iter(User.objects.raw("SELECT * FROM samia.identity(%s, %s)", [user_id, proof])), None)


def user_by_email(email: str) -> User | None:
    """Return the account with this email (case-insensitive), or None."""
    proof = binding.purpose_proof("email", email)
    return next(iter(User.objects.raw("SELECT * FROM samia.identity_by_email(%s, %s)", [email, proof])), None)


def _candidate_hash(password: str, parameters: str) -> str | None:
    """Hash `password` with the algorithm, cost and salt of a stored hash ("algorithm$...$salt")."""
    try:
        hasher = identify_hasher(parameters)
        decoded = hasher.decode(f"{parameters}$")
        cost = {"iterations": decoded["iterations"]} if "iterations" in decoded else {}
        return hasher.encode(password, decoded["salt"], **cost)
    except (ValueError, KeyError, TypeError, AssertionError):
        return None


def password_matches(user: User, password: str) -> bool:
    """Tell whether `password` opens `user`'s account; Postgres compares the hash, which it never hands out."""
    candidate = _candidate_hash(password, user.password.removeprefix("!"))
    if candidate is None:
        make_password(password)  # no usable password: spend the time of a real check anyway
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT samia.login_check(%s, %s, %s)", [user.pk, candidate, binding.purpose_proof("login", str(user.pk))]
        )
        return cursor.fetchone()[0]


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
        user_id = _user_id(token["user_id"])
        if user_id is None:
            raise ValueError("the token names no possible account")
        identity = Identity(user_id, str(token["role"]))
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
