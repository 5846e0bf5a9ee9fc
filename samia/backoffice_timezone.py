"""The back office in the staff member's own time zone, with the zone always shown."""

import zoneinfo

from django.contrib import admin
from django.utils import timezone
from django.utils.formats import date_format

BACKOFFICE_PREFIX = "/backoffice/"


class BackofficeTimezoneMiddleware:
    """Activate the signed-in staff member's time zone (`user.timezone`, IANA) for /backoffice/ pages."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if not request.path.startswith(BACKOFFICE_PREFIX) or user is None or not user.is_authenticated:
            return self.get_response(request)
        try:
            zone = zoneinfo.ZoneInfo(user.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            zone = zoneinfo.ZoneInfo("UTC")
        with timezone.override(zone):
            return self.get_response(request)


def local_time(value) -> str:
    """Format a moment in the active time zone and name the zone: 'Dec. 2, 2026, 8:07 a.m. (Asia/Riyadh)'."""
    if value is None:
        return "-"
    zone = timezone.get_current_timezone()
    return f"{date_format(timezone.localtime(value, zone), 'DATETIME_FORMAT')} ({zone.key})"


def time_column(field: str, description: str):
    """A list column or read-only field showing `field` with `local_time`, sortable by the field."""

    @admin.display(description=description, ordering=field)
    def show(self, obj):
        return local_time(getattr(obj, field))

    show.__name__ = f"{field}_local"
    return show
