"""Email + password authentication through the identity lookup functions."""

import ipaddress
from functools import cache

from django.conf import settings
from django.contrib.auth.backends import BaseBackend
from django.core.exceptions import PermissionDenied

from samia import audit
from samia.accounts import throttle
from samia.accounts.identity import password_matches, user_by_email, user_by_id
from samia.accounts.models import User
from samia.rls.registry import ANONYMOUS_IDENTITY


class LoginThrottled(PermissionDenied):
    def __init__(self, retry_after: int):
        super().__init__("Too many failed logins.")
        self.retry_after = retry_after


@cache
def _trusted_networks(proxies: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(proxy, strict=False) for proxy in proxies)


def _address(value: str):
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def client_ip(request) -> str:
    """Return the client's address: the peer, or behind TRUSTED_PROXIES the rightmost untrusted X-Forwarded-For hop."""
    peer = _address(request.META.get("REMOTE_ADDR", "")) if request is not None else None
    if peer is None:
        return "unknown"
    trusted = _trusted_networks(tuple(settings.TRUSTED_PROXIES))
    client = peer
    hops = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    # Each trusted proxy appends the address it received from; anything left of the first
    # untrusted hop was written by the client and proves nothing.
    while any(client in network for network in trusted) and hops:
        hop = _address(hops.pop())
        if hop is None:
            break
        client = hop
    return str(client)


def credentials_check(*, email: str, password: str, ip: str, entry: str = "api") -> User | None:
    """Return the account these credentials open, or None; raise LoginThrottled past the limits."""
    attempt = throttle.login_attempt_take(email=email, ip=ip, entry=entry)
    if attempt.retry_after:
        raise LoginThrottled(attempt.retry_after)
    user = user_by_email(email)
    if user is None:
        User().set_password(password)  # spend the same time as a real check
        reason = "unknown_account"
    elif not password_matches(user, password):
        reason = "bad_password"
    elif not user.can_log_in:
        reason = "blocked" if user.is_blocked else "inactive"
    else:
        throttle.login_success_record(attempt)
        return user
    audit.record(
        action="auth.login.failed",
        actor=ANONYMOUS_IDENTITY,
        target=user,
        outcome="denied",
        details={"reason": reason},
    )
    return None


class EmailBackend(BaseBackend):
    """Authenticate staff in the back office by email and password."""

    def authenticate(self, request, username=None, password=None, email=None, **kwargs):
        email = email or username
        if not email or password is None:
            return None
        user = credentials_check(email=email, password=password, ip=client_ip(request), entry="backoffice")
        if user is not None and not user.is_staff:
            return None
        return user

    def get_user(self, user_id):
        user = user_by_id(user_id)
        return user if user is not None and user.can_log_in else None
