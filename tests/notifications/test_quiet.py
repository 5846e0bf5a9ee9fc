"""Quiet hours: per-zone windows, the legal night for SMS marketing, the next allowed instant."""

import datetime as dt

from notifications.quiet import in_quiet_hours, next_allowed, quiet_windows
from tests.notifications.helpers import utc


def test_quiet_hours_follow_each_zone_across_daylight_saving():
    # 2026-03-29: Europe/London springs forward at 01:00 UTC. 07:30 UTC is 08:30 BST (allowed),
    # while the day before 07:30 UTC was 07:30 GMT (quiet).
    assert not in_quiet_hours(utc("2026-03-29T07:30"), "Europe/London", "sms", "marketing")
    assert in_quiet_hours(utc("2026-03-28T07:30"), "Europe/London", "sms", "marketing")
    # 23:30 in Riyadh (UTC+3, no DST) is quiet; the next allowed instant is 08:00 local = 05:00 UTC.
    assert next_allowed(utc("2026-11-25T20:30"), "Asia/Riyadh", "push", "marketing") == utc("2026-11-26T05:00")
    # Early morning: quiet until 08:00 the same local day.
    assert next_allowed(utc("2026-11-25T03:00"), "Asia/Riyadh", "push", "marketing") == utc("2026-11-25T05:00")


def test_sms_marketing_never_goes_earlier_than_8_or_later_than_21_whatever_is_configured(settings):
    settings.NOTIFICATIONS_QUIET_START = "23:00"
    settings.NOTIFICATIONS_QUIET_END = "06:00"
    riyadh = "Asia/Riyadh"  # UTC+3

    for local_hour, sms_marketing, push_marketing, sms_transactional in (
        (21, True, False, False),  # 21:30
        (7, True, False, False),  # 07:30
        (23, True, True, True),  # 23:30
        (12, False, False, False),
    ):
        instant = utc(f"2026-11-25T{(local_hour - 3) % 24:02d}:30")
        assert in_quiet_hours(instant, riyadh, "sms", "marketing") is sms_marketing, local_hour
        assert in_quiet_hours(instant, riyadh, "push", "marketing") is push_marketing, local_hour
        assert in_quiet_hours(instant, riyadh, "sms", "transactional") is sms_transactional, local_hour


def test_a_daytime_quiet_period_adds_to_the_legal_night_for_sms_marketing(settings):
    settings.NOTIFICATIONS_QUIET_START = "13:00"
    settings.NOTIFICATIONS_QUIET_END = "14:00"

    assert quiet_windows("sms", "marketing") == [(dt.time(13, 0), dt.time(14, 0)), (dt.time(21, 0), dt.time(8, 0))]
    assert not in_quiet_hours(utc("2026-11-25T09:30"), "UTC", "sms", "marketing")
    assert in_quiet_hours(utc("2026-11-25T13:30"), "UTC", "sms", "marketing")
    assert next_allowed(utc("2026-11-25T13:30"), "UTC", "sms", "marketing") == utc("2026-11-25T14:00")
    assert next_allowed(utc("2026-11-25T22:00"), "UTC", "sms", "marketing") == utc("2026-11-26T08:00")


def test_quiet_hours_can_be_switched_off_except_the_legal_night(settings):
    settings.NOTIFICATIONS_QUIET_START = settings.NOTIFICATIONS_QUIET_END = "00:00"

    assert quiet_windows("push", "marketing") == []
    assert quiet_windows("sms", "marketing") == [(dt.time(21, 0), dt.time(8, 0))]
