"""Quiet hours and send times, in each recipient's own IANA timezone (DST through zoneinfo)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings

from samia.marketplace.cohorts import local_time_instant

# SMS marketing: never before 08:00 nor after 21:00 local, whatever the configuration says.
SMS_MARKETING_NIGHT = (dt.time(21, 0), dt.time(8, 0))


def parse_time(text: str) -> dt.time:
    hours, minutes = text.split(":")
    return dt.time(int(hours), int(minutes))


def quiet_windows(channel: str, purpose: str) -> list[tuple[dt.time, dt.time]]:
    """The (start, end) local periods in which nothing but critical messages go out.

    A period wraps midnight when start > end; start == end means no period. SMS marketing adds
    the legal night to whatever is configured.
    """
    windows = [(parse_time(settings.NOTIFICATIONS_QUIET_START), parse_time(settings.NOTIFICATIONS_QUIET_END))]
    if channel == "sms" and purpose != "transactional":
        windows.append(SMS_MARKETING_NIGHT)
    return [w for w in windows if w[0] != w[1]]


def is_quiet(local: dt.time, start: dt.time, end: dt.time) -> bool:
    if start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end


def in_quiet_hours(instant: dt.datetime, zone: str, channel: str, purpose: str) -> bool:
    local = instant.astimezone(ZoneInfo(zone)).time()
    return any(is_quiet(local, start, end) for start, end in quiet_windows(channel, purpose))


def next_allowed(instant: dt.datetime, zone: str, channel: str, purpose: str) -> dt.datetime:
    """`instant` itself when it is outside quiet hours, else the moment the quiet hours end there."""
    tz = ZoneInfo(zone)
    windows = quiet_windows(channel, purpose)
    for _ in range(len(windows) + 1):  # overlapping periods: step out of each in turn
        local = instant.astimezone(tz)
        inside = [(s, e) for s, e in windows if is_quiet(local.time(), s, e)]
        if not inside:
            return instant
        ends = []
        for _start, end in inside:
            day = local.date() if local.time() < end else local.date() + dt.timedelta(days=1)
            ends.append(local_time_instant(day=day, local_time=end, zone=zone))
        instant = max(ends)
    return instant


def quiet_begins_after(instant: dt.datetime, zone: str, channel: str, purpose: str) -> dt.datetime | None:
    """The first moment after `instant` at which quiet hours begin in `zone` (None: there are none)."""
    local_day = instant.astimezone(ZoneInfo(zone)).date()
    starts = [
        local_time_instant(day=local_day + dt.timedelta(days=offset), local_time=start, zone=zone)
        for start, _end in quiet_windows(channel, purpose)
        for offset in (0, 1)
    ]
    later = [moment for moment in starts if moment > instant]
    return min(later) if later else None
