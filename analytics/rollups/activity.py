"""The activity blocks: one bit per actor and day (analytics.models.ActorActivityBlock).

Masks of days in a block, the DAU/WAU/MAU windows and the retention cells, all read from the blocks.
"""

from __future__ import annotations

import datetime as dt

from analytics.rollups.sql import ACTIVITY_EPOCH, BLOCK_DAYS, RETENTION_IN_COHORTS, RETENTION_SQL

RETENTION_WEEKS = 12


def day_bit(day: dt.date) -> tuple[int, int]:
    """The activity block of a day, and the day's bit in it as a signed bigint."""
    number = (day - ACTIVITY_EPOCH).days
    return number // BLOCK_DAYS, _signed(1 << number % BLOCK_DAYS)


def _week_firsts(monday: dt.date, since: dt.date = dt.date.min) -> str:
    """SQL: (actor, day) for each actor active in the week of `monday` on a day from `since` on, day its
    first active day of that week (which may be before `since`).

    One pass over the one or two activity blocks the week falls in (joined per actor when the week
    straddles two), a bit test per day of the week."""
    days = [monday + dt.timedelta(days=i) for i in range(7)]
    blocks = sorted({day_bit(day)[0] for day in days})
    columns = ["days"] if len(blocks) == 1 else ["lo", "hi"]
    first = " ".join(
        f"WHEN {columns[blocks.index(day_bit(day)[0])]} & {day_bit(day)[1]} <> 0 THEN date '{day.isoformat()}'"
        for day in days
    )
    late = [block_mask(max(monday, since), days[-1], block) for block in blocks]
    # days of the week before `since`: an actor active on one of them has its first day before `since`
    early = [block_mask(monday, since - dt.timedelta(days=1), block) if since > monday else 0 for block in blocks]

    def rows(block: int) -> str:
        mask = block_mask(monday, days[-1], block)
        return f"SELECT actor, days FROM metrics_actor_activity_block WHERE block = {block} AND days & {mask} <> 0"

    if len(blocks) == 1:
        source = f"({rows(blocks[0])} AND days & {late[0]} <> 0 AND days & {early[0]} = 0) w"
    else:
        source = (
            "(SELECT coalesce(l.actor, h.actor) AS actor, coalesce(l.days, 0) AS lo, coalesce(h.days, 0) AS hi "
            f"FROM ({rows(blocks[0])}) l FULL JOIN ({rows(blocks[1])}) h ON h.actor = l.actor "
            f"WHERE (coalesce(l.days, 0) & {late[0]} <> 0 OR coalesce(h.days, 0) & {late[1]} <> 0) "
            f"AND coalesce(l.days, 0) & {early[0]} = 0 AND coalesce(h.days, 0) & {early[1]} = 0) w"
        )
    return f"SELECT actor, CASE {first} END AS day FROM {source}"


# Days per windows query: with the 29 days before them, a chunk spans at most two activity blocks.
WINDOW_CHUNK_DAYS = 31
WINDOW_SPANS = (1, 7, 30)


def _signed(bits: int) -> int:
    """A 64-bit mask as the bigint Postgres stores (bit 63 is the sign bit)."""
    return bits - (1 << 64) if bits >= 1 << 63 else bits


def block_mask(first: dt.date, last: dt.date, block: int) -> int:
    """The bits of the days first..last that fall in `block`, as a signed bigint (0 if none)."""
    low, high = (first - ACTIVITY_EPOCH).days, (last - ACTIVITY_EPOCH).days
    low, high = max(low, block * BLOCK_DAYS), min(high, block * BLOCK_DAYS + BLOCK_DAYS - 1)
    return _signed(sum(1 << (n % BLOCK_DAYS) for n in range(low, high + 1)))


def block_masks(first: dt.date, last: dt.date) -> dict[int, int]:
    """Every block that first..last reaches, with the range's days in it (block_mask)."""
    return {block: block_mask(first, last, block) for block in range(day_bit(first)[0], day_bit(last)[0] + 1)}


def _windows(cursor, first: dt.date, last: dt.date) -> None:
    """Store DAU, WAU and MAU for first..last and the 29 days after it that already have activity.

    Read from the actors' activity blocks: per chunk of days, one pass over the one or two blocks its
    windows reach (the chunk and the 29 days before it), a row per actor and block."""
    cursor.execute("SELECT max(day) FROM metrics_daily_engagement WHERE day > %s AND dau > 0", [last])
    (top,) = cursor.fetchone()
    high = max(last, min(last + dt.timedelta(days=29), top or last))
    cursor.execute("DELETE FROM metrics_daily_active_users WHERE day BETWEEN %s AND %s", [first, high])
    start = first
    while start <= high:
        days = [start + dt.timedelta(days=i) for i in range(min(WINDOW_CHUNK_DAYS, (high - start).days + 1))]
        low_block = (start - dt.timedelta(days=WINDOW_SPANS[-1] - 1) - ACTIVITY_EPOCH).days // BLOCK_DAYS
        high_block = (days[-1] - ACTIVITY_EPOCH).days // BLOCK_DAYS
        assert high_block - low_block <= 1, "a chunk of windows spans at most two blocks"
        counts = []
        for day in days:
            for span in WINDOW_SPANS:
                since = day - dt.timedelta(days=span - 1)
                lo, hi = block_mask(since, day, low_block), block_mask(since, day, high_block)
                tests = [f"lo & {lo} <> 0"] if lo else []
                tests += [f"hi & {hi} <> 0"] if hi and high_block != low_block else []
                counts.append(f"count(*) FILTER (WHERE {' OR '.join(tests)})")
        # one row per actor: its bits in the low block and in the high block (the same block: hi unused)
        cursor.execute(
            f"SELECT {', '.join(counts)} FROM ("
            "  SELECT coalesce(l.days, 0) AS lo, coalesce(h.days, 0) AS hi"
            "  FROM (SELECT actor, days FROM metrics_actor_activity_block WHERE block = %(low)s) l"
            "  FULL JOIN (SELECT actor, days FROM metrics_actor_activity_block WHERE block = %(high)s"
            "             AND block <> %(low)s) h ON h.actor = l.actor"
            ") actors",
            {"low": low_block, "high": high_block},
        )
        row = cursor.fetchone()
        cursor.executemany(
            "INSERT INTO metrics_daily_active_users (day, dau, wau, mau) VALUES (%s, %s, %s, %s)",
            [(d, *row[3 * i : 3 * i + 3]) for i, d in enumerate(days)],
        )
        start = days[-1] + dt.timedelta(days=1)


def _retention(cursor, first: dt.date, last: dt.date, moved: list[dt.date]) -> None:
    """Recompute the retention cells from `first` to the end of the week of `last`, and the moved cohorts.

    A cell's day is an actor's first active day of a week, so cells before `first` keep their actors
    (their earlier days did not change); those of the cohorts that gained or lost actors are redone whole."""
    week_first = first - dt.timedelta(days=first.weekday())
    week_last = last + dt.timedelta(days=6 - last.weekday())
    cursor.execute("DELETE FROM metrics_retention_cohort WHERE day BETWEEN %s AND %s", [first, week_last])
    # a week's actors against their first days: a hash join (the planner, estimating from the CTE, would
    # look each actor up: 2.6x slower at 190k actors)
    cursor.execute("SET LOCAL enable_nestloop = off")
    params = {"since": first, "weeks": RETENTION_WEEKS}
    for week in _mondays(week_first, week_last):
        cursor.execute(RETENTION_SQL.format(firsts=_week_firsts(week, first), cohorts=""), {**params, "week": week})
    if moved:
        cursor.execute("DELETE FROM metrics_retention_cohort WHERE cohort_week = ANY(%s)", [moved])
        cursor.execute("SELECT max(day) FROM metrics_daily_engagement WHERE day > %s AND dau > 0", [last])
        (top,) = cursor.fetchone()
        until = min(max(moved) + dt.timedelta(weeks=RETENTION_WEEKS), max(top or last, last))
        params = {"since": dt.date.min, "weeks": RETENTION_WEEKS, "cohorts": moved}
        for week in _mondays(min(moved), until):
            sql = RETENTION_SQL.format(firsts=_week_firsts(week), cohorts=RETENTION_IN_COHORTS)
            cursor.execute(sql, {**params, "week": week})
    cursor.execute("SET LOCAL enable_nestloop TO DEFAULT")


def _mondays(first: dt.date, last: dt.date) -> list[dt.date]:
    """The Mondays of the weeks that first..last overlaps."""
    monday = first - dt.timedelta(days=first.weekday())
    return [monday + dt.timedelta(weeks=n) for n in range((last - monday).days // 7 + 1)]
