"""Email + password authentication through the identity lookup functions."""

import ipaddress
from collections.abc import Callable
from functools import cache

from django.conf import settings
from django.contrib.auth.backends import BaseBackend
from django.core.exceptions import PermissionDenied, ValidationError

from samia import audit
from samia.accounts import throttle
from samia.accounts.identity import password_matches, user_by_email, user_by_id
from samia.accounts.models import User
from samia.accounts.otp import otp_required, otp_verify
from samia.exceptions import DomainError
from samia.rls.binding import bound
from samia.rls.registry import ANONYMOUS_IDENTITY, Identity


class LoginThrottled(PermissionDenied):
    def __init__(self, retry_after: int):
        super().__init__("Too many failed logins.")
        self.retry_after = retry_after


class AccountBlocked(DomainError):
    """The password is right and the account is blocked; `details` say which block and whether it can be appealed."""

    code = "account_blocked"
    status = 403
    default_message = "This account is blocked."

    def __init__(self, user: User, **details):
        super().__init__(**details)
        self.user = user


# The kernel does not import moderation: moderation's AppConfig.ready() registers the function that
# describes a block (its action id, whether it may be appealed), called bound as the blocked user.
BLOCK_DESCRIBERS: list[Callable[..., dict]] = []


def block_describer_register(describe: Callable[..., dict]) -> None:
    """Register `describe(*, identity) -> dict`, which tells a blocked user about their block."""
    if describe not in BLOCK_DESCRIBERS:
        BLOCK_DESCRIBERS.append(describe)


def _block_details(user: User) -> dict:
    # The password was just proved: the caller reads their block as themselves, under RLS.
    with bound(Identity.of(user)) as binding:
        return {
            key: value for describe in BLOCK_DESCRIBERS for key, value in describe(identity=binding.identity).items()
        }


@cache
def _trusted_networks(proxies: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(proxy, strict=False) for proxy in proxies)


def _address(value: str):
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def client_ip(request, trusted_proxies: list[str] | None = None) -> str:
    """Return the client's address: the peer, or behind trusted proxies the rightmost untrusted X-Forwarded-For hop.

    The login limiter trusts TRUSTED_PROXIES; the route limiter (sre) passes SRE_TRUSTED_PROXIES.
    """
    peer = _address(request.META.get("REMOTE_ADDR", "")) if request is not None else None
    if peer is None:
        return "unknown"
    proxies = settings.TRUSTED_PROXIES if trusted_proxies is None else trusted_proxies
    trusted = _trusted_networks(tuple(proxies))
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


def credentials_check(
    *, email: str, password: str, ip: str, entry: str = "api", otp_code: str | None = None
) -> User | None:
    """Return the account these credentials open, or None; raise LoginThrottled past the limits.

    Raise AccountBlocked when the password is right but the account is blocked (a wrong password is None).
    With `otp_code` (the API's one-step login), staff also need their second factor while STAFF_2FA_REQUIRED:
    a wrong code is a failed login like a wrong password, none at all a ValidationError naming `otp`.
    The back office passes none and asks for the code on its own page (samia/accounts/otp_views.py).
    """
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
    elif otp_code is not None and otp_required(user) and otp_verify(user=user, code=otp_code) is None:
        reason = "bad_otp" if otp_code.strip() else "otp_missing"
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
    if reason == "blocked" and user.is_active:
        raise AccountBlocked(user, **_block_details(user))
    if reason == "otp_missing":
        raise ValidationError({"otp": ["Staff accounts log in with the code from their authenticator app."]})
    return None


class EmailBackend(BaseBackend):
    """Authenticate staff in the back office by email and password."""

    def authenticate(self, request, username=None, password=None, email=None, **kwargs):
        email = email or username
        if not email or password is None:
            return None
        try:
            user = credentials_check(email=email, password=password, ip=client_ip(request), entry="backoffice")
        except AccountBlocked:
            return None
        if user is not None and not user.is_staff:
            return None
        return user

    def get_user(self, user_id):
        user = user_by_id(user_id)
        return user if user is not None and user.can_log_in else None
