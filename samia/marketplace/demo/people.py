"""Build the demo users: every role, spread over countries, languages and ages."""

from __future__ import annotations

import datetime as dt
import random

from django.contrib.auth.hashers import make_password
from django.db import transaction

from samia.accounts.models import Language, Role, User
from samia.accounts.zodiac import sign_for
from samia.marketplace.demo.world import (
    ARABIC_NAMES,
    BATCH_SIZE,
    COUNTRIES,
    DAY,
    DEMO_PASSWORD,
    WESTERN_NAMES,
    World,
    demo_email,
    population,
    seconds,
)


def users_build(world: World, *, scale: int) -> list[User]:
    """Return the demo users of a world of this scale, unsaved, drawn from the world's users stream."""
    rng = random.Random(f"{world.seed}:users")
    password = make_password(DEMO_PASSWORD)  # hashed once: the same hash serves every demo account
    countries = [c[:4] for c in COUNTRIES]
    weights = [c[4] for c in COUNTRIES]
    users = []
    for role, count in population(scale).items():
        # Readers and staff predate the year of orders; clients keep joining.
        oldest, newest = (1000, 400) if role != Role.CLIENT else (900, 15)
        for number in range(1, count + 1):
            country, zone, phone_pattern, arabic_share = rng.choices(countries, weights)[0]
            arabic = rng.random() < arabic_share
            first_names, last_names = ARABIC_NAMES if arabic else WESTERN_NAMES
            birth = dt.date(1960, 1, 1) + dt.timedelta(days=rng.randrange(45 * 365)) if rng.random() < 0.85 else None
            phone = "".join(str(rng.randrange(10)) if ch == "x" else ch for ch in phone_pattern)
            blocked = role == Role.CLIENT and number > 1 and rng.random() < 0.01
            users.append(
                User(
                    email=demo_email(role, number),
                    password=password,
                    role=role,
                    first_name=rng.choice(first_names),
                    last_name=rng.choice(last_names),
                    phone=phone if rng.random() < 0.6 else "",
                    country=country,
                    timezone=zone,
                    language=Language.ARABIC if arabic and rng.random() < 0.75 else Language.ENGLISH,
                    date_of_birth=birth,
                    zodiac_sign=sign_for(birth) if birth else "",  # bulk_create skips User.save()
                    blocked_at=world.anchor - seconds(rng.randrange(DAY, 30 * DAY)) if blocked else None,
                    created_at=world.anchor - seconds(rng.randrange(newest * DAY, oldest * DAY)),
                )
            )
    return users


@transaction.atomic
def users_create(world: World, *, scale: int) -> None:
    """Insert the demo users and hand the clients and readers to the order builders."""
    users = User.objects.bulk_create(users_build(world, scale=scale), batch_size=BATCH_SIZE)
    world.clients = [u for u in users if u.role == Role.CLIENT]
    world.readers = [u for u in users if u.role == Role.READER]
