"""The world bench/campaign.py measures: its database, seeded users, campaigns and due sends.

Functions import Django lazily: bench/campaign.py sets the environment before Django starts.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent

ZONES = (
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Mexico_City",
    "America/Sao_Paulo",
    "Europe/London",
    "Europe/Berlin",
    "Africa/Cairo",
    "Asia/Riyadh",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Pacific/Auckland",
)

ADMIN_EMAIL = "bench-campaign-admin@example.test"


def prepare(database_url: str) -> None:
    """Create the bench database when missing, and migrate it."""
    url = urlsplit(database_url)
    name = url.path.lstrip("/")
    server = database_url.rsplit("/", 1)[0]
    exists = subprocess.run(
        ["psql", f"{server}/postgres", "-tAc", f"SELECT 1 FROM pg_database WHERE datname = '{name}'"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if not exists:
        subprocess.run(["createdb", "--maintenance-db", f"{server}/postgres", name], check=True)
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, check=True, env=os.environ)


def seed(cursor, users: int) -> None:
    """Users, consents and device tokens, set-based; rows that exist are kept.

    One push device each, FCM or APNs in turns of 16 ids: a zone's users (every 16th id) get both.
    """
    steps = {
        "users": (
            """
            INSERT INTO accounts_user (password, email, role, first_name, last_name, phone, country, timezone,
                                       language, date_of_birth, zodiac_sign, is_active, blocked_at,
                                       blocked_until, created_at)
            SELECT '!', 'bench-user-' || g || '@example.test', 'client', '', '',
                   -- ends in 5: never one of the fake Twilio's magic suffixes (0000, 1111, ..., 9999)
                   '+9665' || lpad(g::text, 7, '0') || '5', 'SA',
                   (%(zones)s::text[])[1 + mod(g, cardinality(%(zones)s::text[]))],
                   CASE WHEN mod(g, 3) = 0 THEN 'ar' ELSE 'en' END, NULL, '', true, NULL, NULL, now()
            FROM generate_series(1, %(users)s) g
            ON CONFLICT ((lower(email))) DO NOTHING
            """
        ),
        "consents": (
            """
            INSERT INTO notifications_consent (user_id, channel, purpose, status, lawful_basis, source,
                                               text_version, recorded_by_id, recorded_at)
            SELECT u.id, channel, 'marketing', 'granted', 'consent', 'import', 'bench', NULL, now()
            FROM accounts_user u CROSS JOIN unnest(ARRAY['sms', 'push']) channel
            WHERE u.email LIKE 'bench-user-%%' AND NOT EXISTS (
                SELECT 1 FROM notifications_consent c
                WHERE c.user_id = u.id AND c.channel = channel AND c.purpose = 'marketing')
            """
        ),
        "device tokens": (
            """
            INSERT INTO notifications_devicetoken (user_id, platform, token, active, registered_at,
                                                   deactivated_at, deactivated_reason)
            SELECT u.id, platform, 'bench-' || platform || '-' || u.id, true, now(), NULL, ''
            FROM accounts_user u, LATERAL (SELECT CASE WHEN mod(u.id / 16, 2) = 0 THEN 'apns' ELSE 'fcm' END) p(platform)
            WHERE u.email LIKE 'bench-user-%%'
            ON CONFLICT (platform, token) DO UPDATE SET active = true, deactivated_at = NULL, deactivated_reason = ''
            """
        ),
    }
    for label, sql in steps.items():
        began = time.perf_counter()
        cursor.execute(sql, {"zones": list(ZONES), "users": users})
        print(f"  {label:<14} {cursor.rowcount:>9,} rows in {time.perf_counter() - began:5.1f} s")
    cursor.execute("VACUUM ANALYZE accounts_user")
    cursor.execute("VACUUM ANALYZE notifications_consent")
    cursor.execute("VACUUM ANALYZE notifications_devicetoken")


def admin():
    """The bench's admin account, created once."""
    from samia.accounts.models import User

    admin = User.objects.filter(email=ADMIN_EMAIL).first()
    if admin is None:
        admin = User.objects.create_user(email=ADMIN_EMAIL, password=None, role="admin")
    return admin


def campaign_create(admin_identity, channel: str, name: str):
    """Create a marketing campaign on `channel` to every bench user, through the service, as the admin."""
    from notifications import planning
    from samia.rls.binding import bound

    data = {
        "name": name,
        "channel": channel,
        "purpose": "marketing",
        "audience": {},
        "templates": {
            "en": {"title": "SAMIA", "body": "Your weekly reading is waiting."},
            "ar": {"title": "SAMIA", "body": "قراءتك الأسبوعية بانتظارك."},
        },
        "link_url": "https://samia.example/weekly",
        "send_on": dt.date.today() + dt.timedelta(days=2),
        "local_time": dt.time(10, 0),
        "window_hours": 12,
    }
    with bound(admin_identity):
        return planning.campaign_create(identity=admin_identity, data=data)


def schedule(identity, campaign_id: int, *, as_admin: bool) -> tuple[float, int]:
    """Schedule the campaign (bound as the admin, or as the service role); return (seconds, rows created)."""
    from django.db import transaction

    from notifications import planning
    from samia.rls.binding import bound

    began = time.perf_counter()
    with bound(identity) if as_admin else transaction.atomic():
        _, created = planning.campaign_schedule(identity=identity, campaign_id=campaign_id)
    return time.perf_counter() - began, created


class Capture:
    """Keep the planning INSERT's SQL and parameters, for EXPLAIN ANALYZE later."""

    statement = None

    def __call__(self, execute, sql, params, many, context):
        if sql.lstrip().startswith("INSERT INTO notifications_send"):
            self.statement = (sql, dict(params))
        return execute(sql, params, many, context)


def explain(capture: Capture, admin_identity, channel: str) -> None:
    """EXPLAIN ANALYZE the schedule INSERT for a fresh campaign, bound as the admin, rolled back."""
    from django.db import connection, transaction

    from notifications import ranges
    from samia.rls.binding import bound

    sql, params = capture.statement
    campaign = campaign_create(admin_identity, channel, f"bench explain {channel}")
    params["campaign"] = campaign.pk
    with bound(admin_identity), connection.cursor() as cursor:
        cursor.execute(ranges.SET_BASED)  # the planner settings the schedule runs its statement with
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
        plan = [row[0] for row in cursor.fetchall()]
        transaction.set_rollback(True)
    print(f"\nEXPLAIN ANALYZE of the {channel} schedule INSERT (bound as admin, rolled back):")
    print("\n".join(f"  {line}" for line in plan))


def make_due(cursor, campaign_id: int, count: int, *, daytime_only: bool) -> int:
    """Make `count` planned sends of the campaign due now (SMS: only where it is daytime)."""
    cursor.execute(
        """
        WITH chosen AS (
            SELECT s.id FROM notifications_send s JOIN accounts_user u ON u.id = s.user_id
            WHERE s.campaign_id = %(campaign)s AND s.state = 'planned'
              AND (NOT %(daytime)s OR (now() AT TIME ZONE u.timezone)::time BETWEEN '08:05' AND '20:00')
            ORDER BY s.id LIMIT %(count)s
        )
        UPDATE notifications_send s SET due_at = now() - interval '1 second', expires_at = now() + interval '2 hours'
        FROM chosen WHERE s.id = chosen.id
        """,
        {"campaign": campaign_id, "count": count, "daytime": daytime_only},
    )
    made = cursor.rowcount
    cursor.execute("VACUUM ANALYZE notifications_send")
    return made


def states(cursor, campaign_id: int) -> dict:
    """Count the campaign's sends per state, leaving out those still planned."""
    cursor.execute(
        "SELECT state, count(*) FROM notifications_send WHERE campaign_id = %s AND state <> 'planned' GROUP BY state",
        [campaign_id],
    )
    return dict(cursor.fetchall())


def leftovers(cursor, campaign_id: int) -> int:
    """Due sends still unsettled after every worker finished: never claimed, or claimed and abandoned."""
    cursor.execute(
        "SELECT count(*) FROM notifications_send WHERE campaign_id = %s AND due_at <= now() "
        "AND (state = 'planned' OR (state = 'queued' AND lease_until IS NOT NULL))",
        [campaign_id],
    )
    return cursor.fetchone()[0]
