"""The back office's two-factor pages: enrol, verify, one's own status and recovery codes, a superadmin's resets."""

from urllib.parse import urlencode

import django_otp
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from samia.accounts import otp
from samia.accounts.identity import BACKOFFICE_PREFIX


def _next(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    safe = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if safe and target.startswith(BACKOFFICE_PREFIX) else reverse(f"{admin.site.name}:index")


def _page(request, template: str, title: str, **context) -> TemplateResponse:
    context = {**admin.site.each_context(request), "title": title, "next": _next(request), **context}
    return TemplateResponse(request, f"two_factor/{template}", context)


def _with_next(name: str, request) -> str:
    return f"{reverse(f'two_factor:{name}')}?{urlencode({'next': _next(request)})}"


def enrol(request):
    identity = request.rls_identity
    if otp.otp_enrolled(user_id=identity.user_id):
        return redirect(_next(request) if request.user.is_verified() else _with_next("verify", request))
    error = None
    if request.method == "POST":
        try:
            device, codes = otp.totp_enrol_confirm(identity=identity, code=request.POST.get("code", ""))
        except ValidationError as refused:
            error = refused.message_dict["code"][0]
        else:
            request.session.cycle_key()
            django_otp.login(request, device)
            return _page(request, "recovery_codes.html", _("Your recovery codes"), codes=codes)
    device = otp.totp_enrol_start(identity=identity)
    qr = otp.totp_qr_data_uri(device)
    return _page(
        request, "enrol.html", _("Set up two-factor authentication"), qr=qr, key=otp.totp_setup_key(device), error=error
    )


def verify(request):
    user = request.user
    if user.is_verified():
        return redirect(_next(request))
    if not otp.otp_enrolled(user_id=user.pk):
        return redirect(_with_next("enrol", request))
    error = None
    if request.method == "POST":
        device = otp.otp_verify(user=user, code=request.POST.get("code", ""))
        if device is not None:
            request.session.cycle_key()
            django_otp.login(request, device)
            return redirect(_next(request))
        error = otp.INVALID_CODE
    return _page(request, "verify.html", _("Two-factor authentication"), error=error)


def status(request):
    user_id = request.rls_identity.user_id
    return _page(
        request,
        "status.html",
        _("Two-factor authentication"),
        enrolled=otp.otp_enrolled(user_id=user_id),
        codes_left=otp.recovery_codes_left(user_id=user_id),
        superadmin=request.rls_identity.role == "superadmin",
    )


@require_POST
def recovery_codes(request):
    if not request.user.is_verified():
        return redirect(_with_next("verify", request))
    codes = otp.recovery_codes_renew(identity=request.rls_identity)
    return _page(request, "recovery_codes.html", _("Your recovery codes"), codes=codes)


def staff(request):
    accounts = otp.staff_two_factor_list(identity=request.rls_identity)
    return _page(request, "staff.html", _("Staff two-factor authentication"), accounts=accounts)


@require_POST
def reset(request, user_id: int):
    removed = otp.otp_reset(identity=request.rls_identity, user_id=user_id)
    messages.success(
        request,
        _("Two-factor authentication reset for user #%(user)s (%(removed)s devices removed).")
        % {"user": user_id, "removed": removed},
    )
    return redirect("two_factor:staff")
