"""A campaign's schedule as SQL: one INSERT ... SELECT per range of users, on one connection or several.

planning.campaign_schedule decides what to plan and records it; this module plans it. A large
audience (NOTIFICATIONS_SCHEDULE_SPLIT_USERS) is cut into ranges of user ids, one per connection
(NOTIFICATIONS_SCHEDULE_CONNECTIONS): the caller's connection plans the first range and a
companion (samia.companion) each other range, all committing together or not at all.
"""

from __future__ import annotations

import itertools

from django.conf import settings
from django.db import connection

from notifications.models import Campaign
from notifications.targeting import LATEST_CONSENT, audience_where, reachable_sql
from samia.companion import Companion, finish_all
from samia.rls.registry import Identity

# Columns every planned send gets the same way, whatever planned it.
SEND_COLUMNS = (
    "campaign_id, notification_id, user_id, channel, purpose, critical, kind, subject_id, dedupe_key, "
    "language, due_at, expires_at, state, state_changed_at, attempts, provider, sandbox, message_id, "
    "last_error, escalated, held, created_at"
)

# The schedule statement reads every user of the audience once (hash and merge joins), for this
# transaction only. Under RLS the planner estimates each table's visible rows as a small fraction
# (the policies' tests of the caller's role are parameters), so it expects a handful of
# recipients and would probe users, devices and suppressions once per recipient: 3,000,000 index
# probes for 1,000,000 users. work_mem keeps the sets sorted or hashed in memory (the users' sort
# takes 95 MB for 1,000,000 users; with the default 4 MB the sets spilled to disk).
SET_BASED = "SET LOCAL enable_nestloop = off; SET LOCAL work_mem = '128MB'"
SET_BASED_END = "SET LOCAL enable_nestloop TO DEFAULT; SET LOCAL work_mem TO DEFAULT"


def users_estimate() -> float:
    """The planner's estimate of the users table's size (-1 before it was first analyzed): free, and
    precise enough to choose how to schedule."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = 'accounts_user'::regclass")
        return cursor.fetchone()[0]


def user_range(column: str, bounds: tuple[int | None, int | None]) -> str:
    """The condition keeping `column` in [first_user, last_user); either end may be open."""
    first, last = bounds
    return ("" if first is None else f"AND {column} >= %(first_user)s ") + (
        "" if last is None else f"AND {column} < %(last_user)s"
    )


def schedule_sql(campaign: Campaign, bounds: tuple[int | None, int | None]) -> str:
    """The INSERT ... SELECT planning the campaign's sends to the users in `bounds`."""
    language = "CASE WHEN u.language = ANY(%(template_languages)s) THEN u.language ELSE 'en' END"
    in_range = user_range("u.id", bounds)
    # The campaign's row is locked until commit, so schedules of one campaign run one after the
    # other and each statement sees what the previous planned: the anti-join leaves out who has a
    # send (no ON CONFLICT: its speculative insertion cost a quarter of the insert's CPU), and the
    # unique dedupe key still refuses a duplicate. Sends go in user order: each index is then
    # written front to back instead of at random (the table outgrows shared buffers).
    return f"""
        INSERT INTO notifications_send ({SEND_COLUMNS}, encoding, segments)
        SELECT %(campaign)s, NULL, u.id, %(channel)s, %(purpose)s, false, %(kind)s, NULL,
               'campaign:' || %(campaign)s || ':' || u.id, {language},
               z.due_at, z.expires_at, 'planned', now(), 0, '', false, '', '', false, false, now(),
               coalesce(%(measures)s::jsonb -> ({language}) ->> 'encoding', ''),
               (%(measures)s::jsonb -> ({language}) ->> 'segments')::smallint
        FROM accounts_user u
        JOIN unnest(%(zones)s::text[], %(dues)s::timestamptz[], %(expiries)s::timestamptz[])
             AS z(zone, due_at, expires_at) ON z.zone = u.timezone
        LEFT JOIN ({LATEST_CONSENT}) lc ON lc.user_id = u.id
        WHERE true {audience_where(campaign.audience)} {reachable_sql(campaign.channel, campaign.purpose)}
          {in_range}
          AND NOT EXISTS (SELECT 1 FROM notifications_send s WHERE s.campaign_id = %(campaign)s AND s.user_id = u.id)
        ORDER BY u.id
    """


# The foreign keys a planned send checks (its user, its campaign). Django declares them DEFERRABLE
# INITIALLY DEFERRED; a split schedule checks them at the end of each range's statement instead of at
# each commit, so every connection checks its own rows at the same time as the others.
SEND_KEYS_SQL = """
    SELECT string_agg(quote_ident(conname), ', ' ORDER BY conname) FROM pg_constraint
    WHERE conrelid = 'notifications_send'::regclass AND contype = 'f' AND condeferrable
      AND confrelid IN ('accounts_user'::regclass, 'notifications_campaign'::regclass)
"""


def plan_range(
    cursor, campaign: Campaign, params: dict, bounds: tuple[int | None, int | None], *, afresh: bool, check_now: bool
) -> int:
    """Plan the campaign's sends to the users in `bounds` on `cursor`'s connection; return how many."""
    values = {**params, "first_user": bounds[0], "last_user": bounds[1]}
    if check_now:
        # Split: the caller waits for the other connections in Python, where Postgres cannot see the wait,
        # so a deadlock through a third transaction (one locking users FOR UPDATE in two ranges) would
        # go undetected. A bounded lock wait turns it into an error, and every range rolls back.
        cursor.execute(
            "SELECT set_config('lock_timeout', %s, true)", [f"{settings.NOTIFICATIONS_SCHEDULE_LOCK_TIMEOUT_SECONDS}s"]
        )
    if afresh:
        where = user_range("user_id", bounds)
        cursor.execute(f"DELETE FROM notifications_send WHERE campaign_id = %(campaign)s {where}", values)
    keys = None
    if check_now:
        cursor.execute(SEND_KEYS_SQL)
        (keys,) = cursor.fetchone()
    cursor.execute(SET_BASED)
    if keys:
        cursor.execute(f"SET CONSTRAINTS {keys} IMMEDIATE")
    cursor.execute(schedule_sql(campaign, bounds), values)
    created = cursor.rowcount
    if keys:
        cursor.execute(f"SET CONSTRAINTS {keys} DEFERRED")
    cursor.execute(SET_BASED_END)
    if check_now:
        cursor.execute("SET LOCAL lock_timeout TO DEFAULT")
    return created


def user_bounds(connections_wanted: int) -> list[tuple[int | None, int | None]]:
    """Split the users into ranges of ids of about equal size, one per connection: [(first, last)), open-ended
    at both ends. One range when splitting does not pay (NOTIFICATIONS_SCHEDULE_SPLIT_USERS)."""
    if connections_wanted < 2:
        return [(None, None)]
    if (
        settings.NOTIFICATIONS_SCHEDULE_SPLIT_USERS > 0
        and users_estimate() < settings.NOTIFICATIONS_SCHEDULE_SPLIT_USERS
    ):
        return [(None, None)]
    with connection.cursor() as cursor:
        cursor.execute("SELECT min(id), max(id) FROM accounts_user")
        low, high = cursor.fetchone()
    if low is None or high - low < connections_wanted:
        return [(None, None)]
    cuts = [low + (high - low + 1) * i // connections_wanted for i in range(1, connections_wanted)]
    edges = [None, *cuts, None]
    return list(itertools.pairwise(edges))


def plan_ranges(identity: Identity | str, campaign: Campaign, params: dict, *, afresh: bool) -> int:
    """Plan the campaign's sends, in ranges of users on several connections when the audience is large."""
    ranges = user_bounds(settings.NOTIFICATIONS_SCHEDULE_CONNECTIONS)
    if len(ranges) == 1:
        with connection.cursor() as cursor:
            return plan_range(cursor, campaign, params, ranges[0], afresh=afresh, check_now=False)

    def share(bounds):
        def work(cursor) -> int | None:
            # The campaign created in the caller's transaction, not committed yet: the caller plans this range.
            cursor.execute("SELECT 1 FROM notifications_campaign WHERE id = %s", [campaign.pk])
            if cursor.fetchone() is None:
                return None
            return plan_range(cursor, campaign, params, bounds, afresh=afresh, check_now=True)

        return work

    bound_as = identity if isinstance(identity, Identity) else None
    companions = [
        Companion(share(bounds), identity=bound_as, name="notifications-schedule-companion") for bounds in ranges[1:]
    ]
    try:
        with connection.cursor() as cursor:
            created = share(ranges[0])(cursor)
    except BaseException:
        finish_all(companions, commit=False)
        raise
    results = finish_all(companions, commit=True)
    for bounds, result in zip(ranges[1:], results, strict=True):
        if result is None:
            with connection.cursor() as cursor:
                result = plan_range(cursor, campaign, params, bounds, afresh=afresh, check_now=False)
        created += result
    return created
