"""Email + password authentication through the identity lookup functions."""

from django.contrib.auth.backends import BaseBackend
from django.contrib.auth.hashers import check_password
from django.core.exceptions import PermissionDenied

from samia import audit
from samia.accounts import throttle
from samia.accounts.identity import user_by_email, user_by_id
from samia.accounts.models import User
from samia.rls.registry import ANONYMOUS_IDENTITY


class LoginThrottled(PermissionDenied):
    def __init__(self, retry_after: int):
        super().__init__("Too many failed logins.")
        self.retry_after = retry_after


def client_ip(request) -> str:
    return (request.META.get("REMOTE_ADDR") if request is not None else None) or "unknown"


def credentials_check(*, email: str, password: str, ip: str) -> User | None:
    """Return the account these credentials open, or None; raise LoginThrottled past the limits."""
    retry_after = throttle.login_retry_after(email=email, ip=ip)
    if retry_after:
        raise LoginThrottled(retry_after)
    user = user_by_email(email)
    if user is None:
        User().set_password(password)  # spend the same time as a real check
        reason = "unknown_account"
    elif not check_password(password, user.password):
        reason = "bad_password"
    elif not user.can_log_in:
        reason = "blocked" if user.is_blocked else "inactive"
    else:
        throttle.login_success_record(email=email)
        return user
    throttle.login_failure_record(email=email, ip=ip)
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
        user = credentials_check(email=email, password=password, ip=client_ip(request))
        if user is not None and not user.is_staff:
            return None
        return user

    def get_user(self, user_id):
        user = user_by_id(user_id)
        return user if user is not None and user.can_log_in else None
