"""Quiet hours and send times, in each recipient's own IANA timezone (DST through zoneinfo)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings

from samia.marketplace.cohorts import local_time_instant

# SMS marketing: never before 08:00 nor after 21:00 local, whatever the configuration says.
SMS_MARKETING_EARLIEST = dt.time(8, 0)
SMS_MARKETING_LATEST = dt.time(21, 0)


def parse_time(text: str) -> dt.time:
    hours, minutes = text.split(":")
    return dt.time(int(hours), int(minutes))


def _minutes(moment: dt.time) -> int:
    return moment.hour * 60 + moment.minute


def quiet_window(channel: str, purpose: str) -> tuple[dt.time, dt.time]:
    """(start, end) of the quiet period; it wraps midnight when start > end."""
    start = parse_time(settings.NOTIFICATIONS_QUIET_START)
    end = parse_time(settings.NOTIFICATIONS_QUIET_END)
    if channel == "sms" and purpose != "transactional":
        # Widen to the legal window: quiet from 21:00 at the latest until 08:00 at the earliest.
        if start > end:  # wraps midnight, the usual case
            start = min(start, SMS_MARKETING_LATEST, key=_minutes)
            end = max(end, SMS_MARKETING_EARLIEST, key=_minutes)
        else:  # a daytime quiet window: the legal night applies on top, so take the night.
            start, end = SMS_MARKETING_LATEST, max(end, SMS_MARKETING_EARLIEST, key=_minutes)
    return start, end


def is_quiet(local: dt.time, start: dt.time, end: dt.time) -> bool:
    if start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end


def in_quiet_hours(instant: dt.datetime, zone: str, channel: str, purpose: str) -> bool:
    start, end = quiet_window(channel, purpose)
    return is_quiet(instant.astimezone(ZoneInfo(zone)).time(), start, end)


def next_allowed(instant: dt.datetime, zone: str, channel: str, purpose: str) -> dt.datetime:
    """`instant` itself when it is outside quiet hours, else the moment quiet hours end there."""
    start, end = quiet_window(channel, purpose)
    local = instant.astimezone(ZoneInfo(zone))
    if not is_quiet(local.time(), start, end):
        return instant
    day = local.date()
    if _minutes(local.time()) >= _minutes(end):  # evening part of a window that wraps midnight
        day += dt.timedelta(days=1)
    return local_time_instant(day=day, local_time=end, zone=zone)


def quiet_start_on(day: dt.date, zone: str, channel: str, purpose: str) -> dt.datetime:
    """The instant quiet hours begin on `day` in `zone` (the latest a day's message may go out)."""
    start, _ = quiet_window(channel, purpose)
    return local_time_instant(day=day, local_time=start, zone=zone)
