"""The staff second factor: a TOTP device and one-time recovery codes (django-otp).

A staff member's devices are theirs alone (samia/accounts/policies.py): everything here runs bound
to the identity it is given. Audit entries name users and devices by id, never a key or a code.
"""

from __future__ import annotations

from base64 import b32encode, b64encode

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django_otp import devices_for_user
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from samia import audit
from samia.accounts import policies
from samia.accounts.models import STAFF_ROLES, Role, User
from samia.exceptions import Conflict
from samia.rls.binding import bound
from samia.rls.registry import Identity

RECOVERY_CODES = 10
INVALID_CODE = "That code is not valid. Enter the current code from your authenticator app, or a recovery code."


def otp_required(user) -> bool:
    """Tell whether `user` must give a second factor: staff, while STAFF_2FA_REQUIRED is on."""
    return settings.STAFF_2FA_REQUIRED and user.is_staff


def otp_enrolled(*, user_id: int) -> bool:
    """Tell whether the user has a confirmed authenticator (read under the current binding)."""
    return TOTPDevice.objects.filter(user_id=user_id, confirmed=True).exists()


def otp_verify(*, user: User, code: str) -> Device | None:
    """Return the device of `user` that accepts `code` (a TOTP code, or a recovery code now spent), or None."""
    code = "".join(code.split())
    if not code:
        return None
    # The API's login runs anonymous until the code is checked: the account whose password matched
    # reads and updates its own devices (their throttling counts failures too).
    with bound(Identity.of(user)):
        for device in devices_for_user(user, for_verify=True):
            if device.verify_token(code):
                if isinstance(device, StaticDevice):
                    audit.record(
                        action="accounts.otp.recovery_used",
                        actor=user,
                        target=user,
                        details={"static_device_id": device.pk, "remaining": device.token_set.count()},
                    )
                return device
    return None


@transaction.atomic
def totp_enrol_start(*, identity: Identity) -> TOTPDevice:
    """Return the caller's authenticator waiting for its first code, made now unless one is waiting."""
    if identity.role not in STAFF_ROLES:
        raise PermissionDenied("Two-factor authentication is for staff accounts.")
    if otp_enrolled(user_id=identity.user_id):
        raise Conflict("Two-factor authentication is already set up.")
    waiting = TOTPDevice.objects.filter(user_id=identity.user_id, confirmed=False).order_by("id").first()
    return waiting or TOTPDevice.objects.create(user_id=identity.user_id, name="Authenticator app", confirmed=False)


@transaction.atomic
def totp_enrol_confirm(*, identity: Identity, code: str) -> tuple[TOTPDevice, list[str]]:
    """Confirm the caller's waiting authenticator with a code from it; return it and fresh recovery codes."""
    device = (
        TOTPDevice.objects.select_for_update().filter(user_id=identity.user_id, confirmed=False).order_by("id").first()
    )
    if device is None:
        raise ValidationError({"code": ["No authenticator is waiting to be confirmed; start the set-up again."]})
    if not device.verify_token("".join(code.split())):
        raise ValidationError({"code": [INVALID_CODE]})
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user_id=identity.user_id, confirmed=False).delete()
    codes = _recovery_codes_replace(user_id=identity.user_id)
    audit.record(
        action="accounts.otp.enrol",
        actor=identity,
        target=("accounts.user", identity.user_id),
        details={"totp_device_id": device.pk, "recovery_codes": len(codes)},
    )
    return device, codes


@transaction.atomic
def recovery_codes_renew(*, identity: Identity) -> list[str]:
    """Replace the caller's recovery codes with new ones (the old ones stop working)."""
    if not otp_enrolled(user_id=identity.user_id):
        raise Conflict("Set up two-factor authentication first.")
    codes = _recovery_codes_replace(user_id=identity.user_id)
    audit.record(
        action="accounts.otp.recovery_renew",
        actor=identity,
        target=("accounts.user", identity.user_id),
        details={"recovery_codes": len(codes)},
    )
    return codes


def _recovery_codes_replace(*, user_id: int) -> list[str]:
    StaticToken.objects.filter(device__user_id=user_id).delete()
    StaticDevice.objects.filter(user_id=user_id).delete()
    device = StaticDevice.objects.create(user_id=user_id, name="Recovery codes")
    tokens = StaticToken.objects.bulk_create(
        [StaticToken(device=device, token=StaticToken.random_token()) for _ in range(RECOVERY_CODES)]
    )
    return [token.token for token in tokens]


@transaction.atomic
def otp_reset(*, identity: Identity, user_id: int) -> int:
    """Remove another staff member's authenticator and recovery codes; they enrol again when they next sign in."""
    if identity.role != Role.SUPERADMIN:
        raise PermissionDenied("Only a superadmin resets two-factor authentication.")
    if user_id == identity.user_id:
        raise PermissionDenied("You may not reset your own two-factor authentication.")
    user = policies.USERS.get(User.objects.all(), identity, user_id)
    if not user.is_staff:
        raise ValidationError({"user": ["Only staff accounts have two-factor authentication."]})
    StaticToken.objects.filter(device__user_id=user_id).delete()
    removed = StaticDevice.objects.filter(user_id=user_id).delete()[0]
    removed += TOTPDevice.objects.filter(user_id=user_id).delete()[0]
    audit.record(action="accounts.otp.reset", actor=identity, target=user, details={"devices": removed})
    return removed


def staff_two_factor_list(*, identity: Identity) -> QuerySet[User]:
    """Return the staff accounts with an `enrolled` flag, for a superadmin."""
    if identity.role != Role.SUPERADMIN:
        raise PermissionDenied("Only a superadmin manages other staff members' two-factor authentication.")
    enrolled = TOTPDevice.objects.filter(user_id=OuterRef("pk"), confirmed=True)
    staff = policies.USERS.scope(User.objects.filter(role__in=sorted(STAFF_ROLES)), identity)
    return staff.annotate(enrolled=Exists(enrolled)).order_by("role", "email")


def totp_setup_key(device: TOTPDevice) -> str:
    """Return the device's key in base32, as authenticator apps take it when typed in."""
    return b32encode(device.bin_key).decode()


def totp_qr_data_uri(device: TOTPDevice) -> str:
    """Return the device's otpauth:// URL as an SVG QR code in a data: URI."""
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    return f"data:image/svg+xml;base64,{b64encode(image.to_string()).decode()}"


def recovery_codes_left(*, user_id: int) -> int:
    """Return how many unused recovery codes the user has (read under the current binding)."""
    return StaticToken.objects.filter(device__user_id=user_id).count()
