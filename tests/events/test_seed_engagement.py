"""seed_demo's app sessions and horoscope listens: a weekly rhythm, dormant users, the same for the same seed."""

import datetime as dt
import io
import itertools
import json
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import connection

from analytics import selectors
from analytics.rollups.run import rollup_days
from samia.accounts.models import User
from samia.marketplace.models import Horoscope
from samia.rls.registry import Identity

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 3, 10)
ANCHOR = dt.datetime.combine(TODAY, dt.time(), tzinfo=dt.UTC)


def _seed(**options) -> None:
    call_command("seed_demo", scale=1, seed=7, today=TODAY, stdout=io.StringIO(), stderr=io.StringIO(), **options)


def _engagement() -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, occurred_at, actor_id, actor_key, subject_id, properties FROM events_raw "
            "WHERE name IN ('app.session', 'horoscope.listened') ORDER BY name, occurred_at, actor_id, actor_key"
        )
        return [(*row[:5], json.loads(row[5])) for row in cursor.fetchall()]


def test_it_seeds_sessions_with_a_weekly_rhythm_and_dormant_users():
    _seed()
    sessions = [e for e in _engagement() if e[0] == "app.session"]
    users = {u.pk: u for u in User.objects.filter(role__in=["client", "reader"])}

    by_actor: dict[int, list[dt.datetime]] = {}
    for _, moment, actor_id, key, subject_id, properties in sessions:
        user = users[actor_id]
        assert (key, subject_id) == ("", None)
        assert properties["platform"] in {"ios", "android", "web"}
        assert (properties["country"], properties["language"]) == (user.country, user.language)
        assert user.created_at <= moment < ANCHOR
        by_actor.setdefault(actor_id, []).append(moment)
    for moments in by_actor.values():  # at most one session per 30 minutes, as POST /me/sessions counts them
        assert all(b - a >= dt.timedelta(minutes=30) for a, b in itertools.pairwise(moments))
    last_seen = {actor: max(moments) for actor, moments in by_actor.items()}
    dormant = [a for a, seen in last_seen.items() if seen < ANCHOR - dt.timedelta(days=30)]
    assert 1 <= len(dormant) <= len(last_seen) // 4
    assert len(last_seen) >= 0.8 * len(users)
    weekdays = Counter(m.astimezone(ZoneInfo(users[a].timezone)).weekday() for _, m, a, *_ in sessions)
    assert weekdays[4] > 1.25 * weekdays[0]  # Friday, the Gulf weekend, against Monday


def test_it_seeds_listens_of_visible_horoscopes_by_users_and_anonymous_devices():
    _seed()
    listens = [e for e in _engagement() if e[0] == "horoscope.listened"]
    horoscopes = {h.pk: h for h in Horoscope.objects.all()}

    assert listens
    for _, moment, actor_id, key, subject_id, properties in listens:
        horoscope = horoscopes[subject_id]
        assert horoscope.approval_status == "approved" and horoscope.approved_at < moment < ANCHOR
        assert properties["horoscope_id"] == subject_id and properties["sign"] == horoscope.sign
        assert 0 <= properties["percent"] <= 100
        assert (actor_id is None) == (len(key) == 32)
    anonymous = {key for _, _, actor_id, key, *_ in listens if actor_id is None}
    assert len(anonymous) >= 3
    through = sum(p["percent"] >= 90 for *_, p in listens)
    assert 0.3 * len(listens) < through < 0.9 * len(listens)


def _by_identity() -> list[tuple]:
    """The engagement events with users named by email and horoscopes by (sign, date): ids change on reset."""
    emails = dict(User.objects.values_list("pk", "email"))
    horoscopes = {h.pk: (h.sign, h.date) for h in Horoscope.objects.all()}
    return sorted(
        (name, moment, emails.get(actor_id, ""), key, horoscopes.get(subject_id, ()), properties.get("percent", -1))
        for name, moment, actor_id, key, subject_id, properties in _engagement()
    )


def test_the_same_seed_seeds_the_same_engagement():
    _seed()
    first = _by_identity()

    _seed(reset=True)

    assert _by_identity() == first
    call_command("seed_demo", scale=1, seed=8, today=TODAY, reset=True, stdout=io.StringIO(), stderr=io.StringIO())
    assert _by_identity() != first


def test_the_demo_shows_active_users_and_retention():
    _seed()
    rollup_days(first=TODAY - dt.timedelta(days=200), last=TODAY)
    admin = User.objects.get(email="admin@demo.samia.test")

    engagement = selectors.engagement_metrics(
        identity=Identity(admin.pk, "admin"), first=TODAY - dt.timedelta(days=29), last=TODAY - dt.timedelta(days=1)
    )

    last_day = engagement["on_last_day"]
    assert 0 < last_day["dau"] < last_day["wau"] < last_day["mau"]
    assert engagement["retention"] and all(cohort["size"] > 0 for cohort in engagement["retention"])
    assert all(row["dau"] > 0 for row in engagement["series"])
