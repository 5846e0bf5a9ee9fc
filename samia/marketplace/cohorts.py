"""Timezone cohorts (M18A): a user's cohort is their IANA zone."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.db.models import QuerySet

from samia.accounts.models import User


def zones_at_local_time(*, local_time: dt.time, instant: dt.datetime, zones) -> list[str]:
    """Return the zones among `zones` whose wall clock reads `local_time` (to the minute) at `instant`."""
    if instant.tzinfo is None:
        raise ValueError("instant must be timezone-aware")
    wanted = (local_time.hour, local_time.minute)
    matching = []
    for zone in set(zones):
        local = instant.astimezone(ZoneInfo(zone))
        if (local.hour, local.minute) == wanted:
            matching.append(zone)
    return sorted(matching)


def users_at_local_time(
    *, local_time: dt.time, instant: dt.datetime, users: QuerySet[User] | None = None
) -> QuerySet[User]:
    """Return the users whose local time is `local_time` (HH:MM) at the UTC instant `instant`.

    A wall-clock time skipped by a daylight-saving jump matches nobody in that zone that day;
    a repeated one matches at both of its instants.
    """
    users = User.objects.all() if users is None else users
    zones = users.order_by().values_list("timezone", flat=True).distinct()
    return users.filter(timezone__in=zones_at_local_time(local_time=local_time, instant=instant, zones=zones))


def local_time_instant(*, day: dt.date, local_time: dt.time, zone: str) -> dt.datetime:
    """Return the UTC instant at which `zone` first reads `local_time` on `day`.

    A time that falls in a spring-forward gap resolves to the moment the clocks jump
    (the first valid local time after it); a repeated time resolves to its first occurrence.
    """
    tz = ZoneInfo(zone)
    naive = dt.datetime.combine(day, local_time)
    candidate = naive.replace(tzinfo=tz, fold=0)
    utc = candidate.astimezone(dt.UTC)
    if utc.astimezone(tz).replace(tzinfo=None) != naive:  # in a gap: the wall time never happens
        # Start from the earlier reading of the gap and walk to the jump, minute by minute.
        utc = min(utc, naive.replace(tzinfo=tz, fold=1).astimezone(dt.UTC))
        while utc.astimezone(tz).replace(tzinfo=None) < naive:
            utc += dt.timedelta(minutes=1)
    return utc.astimezone(dt.UTC)
