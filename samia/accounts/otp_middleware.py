"""Staff finish signing in with their second factor before any other back-office page."""

from urllib.parse import urlencode

from django.conf import settings
from django.shortcuts import redirect
from django.urls import reverse

from samia.accounts import otp
from samia.accounts.identity import BACKOFFICE_PREFIX

# The way in and the way out; the other 2FA pages (new recovery codes, resets) need a verified session too.
OPEN_PREFIXES = tuple(f"{BACKOFFICE_PREFIX}{page}" for page in ("2fa/enrol/", "2fa/verify/", "logout/"))


class StaffTwoFactorMiddleware:
    """Send a staff session that has not given its second factor to enrol (no device yet) or verify.

    Runs after django-otp's OTPMiddleware, inside the request's binding, so the device is read as
    the session's user. Only while STAFF_2FA_REQUIRED; clients and readers never reach the back office.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith(BACKOFFICE_PREFIX) and not request.path.startswith(OPEN_PREFIXES):
            user = request.user
            if settings.STAFF_2FA_REQUIRED and user.is_authenticated and user.is_staff and not user.is_verified():
                step = "verify" if otp.otp_enrolled(user_id=user.pk) else "enrol"
                return redirect(f"{reverse(f'two_factor:{step}')}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)
