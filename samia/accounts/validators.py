"""Validators for profile fields: E.164 phones, ISO countries, IANA zones, plausible birth dates."""

import datetime as dt
import re
import zoneinfo
from functools import cache

import pycountry
from django.core.exceptions import ValidationError
from django.utils import timezone

_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
EARLIEST_BIRTH_DATE = dt.date(1900, 1, 1)


@cache
def _zones() -> frozenset[str]:
    # "localtime" is the host's own zone (a file some systems add), not an IANA name.
    return frozenset(zoneinfo.available_timezones()) - {"localtime"}


@cache
def _countries() -> frozenset[str]:
    return frozenset(c.alpha_2 for c in pycountry.countries)


def validate_e164(value: str) -> None:
    """Reject phone numbers that are not in E.164 form (+ and 7 to 15 digits)."""
    if value and not _E164.match(value):
        raise ValidationError("Enter the phone number in E.164 form, e.g. +14155550100.", code="invalid_phone")


def validate_country(value: str) -> None:
    """Reject anything but an ISO 3166-1 alpha-2 code."""
    if value not in _countries():
        raise ValidationError("Enter an ISO 3166-1 alpha-2 country code, e.g. SA.", code="invalid_country")


def validate_timezone(value: str) -> None:
    """Reject anything but an IANA time zone name."""
    if value not in _zones():
        raise ValidationError("Enter an IANA time zone name, e.g. Asia/Riyadh.", code="invalid_timezone")


def validate_date_of_birth(value: dt.date) -> None:
    """Reject birth dates in the future or before 1900."""
    # Today where the date is furthest ahead (UTC+14): nobody is refused a birthday that is today at home.
    if not EARLIEST_BIRTH_DATE <= value <= (timezone.now() + dt.timedelta(hours=14)).date():
        raise ValidationError("Enter a date of birth between 1900-01-01 and today.", code="invalid_date_of_birth")
