"""The demo world's fixed vocabulary and scale, and the state its builders share."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from samia.accounts.models import Role, User
from samia.marketplace.models import Service

DEMO_DOMAIN = "demo.samia.test"
DEMO_PASSWORD = "demo-password-2026"
ORDERS_PER_SCALE = 500
MAX_CLIENTS = 50_000
BATCH_SIZE = 5000
CENT = Decimal("0.01")
HOUR = 3600
DAY = 24 * HOUR

# Country, IANA zone, phone pattern (each x a digit), share of Arabic names, weight among users.
# Phones in GB and North America use the ranges reserved for fiction.
COUNTRIES = [
    ("SA", "Asia/Riyadh", "+9665xxxxxxxx", 1.0, 30),
    ("AE", "Asia/Dubai", "+9715xxxxxxxx", 0.8, 14),
    ("EG", "Africa/Cairo", "+201xxxxxxxxx", 1.0, 12),
    ("KW", "Asia/Kuwait", "+9656xxxxxxx", 1.0, 8),
    ("QA", "Asia/Qatar", "+9743xxxxxxx", 0.9, 5),
    ("JO", "Asia/Amman", "+9627xxxxxxxx", 1.0, 5),
    ("MA", "Africa/Casablanca", "+2126xxxxxxxx", 0.9, 6),
    ("GB", "Europe/London", "+447700900xxx", 0.4, 7),
    ("FR", "Europe/Paris", "+336xxxxxxxx", 0.4, 5),
    ("US", "America/New_York", "+121255501xx", 0.3, 6),
    ("CA", "America/Toronto", "+141655501xx", 0.3, 2),
]
ARABIC_NAMES = (
    (
        "Noura",
        "Layla",
        "Fatima",
        "Mariam",
        "Sara",
        "Huda",
        "Reem",
        "Aisha",
        "Salma",
        "Hessa",
        "Omar",
        "Khalid",
        "Youssef",
    ),
    ("Al-Harbi", "Al-Qahtani", "Al-Otaibi", "Haddad", "Mansour", "Nasser", "El-Sayed", "Khoury", "Benali", "Darwish"),
)
WESTERN_NAMES = (
    ("Emma", "Olivia", "Sophie", "Chloe", "Amelia", "Grace", "Hannah", "Camille", "Mia", "James", "Lucas", "Daniel"),
    ("Smith", "Johnson", "Brown", "Taylor", "Wilson", "Evans", "Clarke", "Martin", "Bernard", "Dubois", "Moreau"),
)

# Code: (base price, premium, share of orders).
SERVICES = {
    Service.Code.TAROT: (Decimal("25.00"), False, 35),
    Service.Code.COFFEE: (Decimal("20.00"), False, 20),
    Service.Code.ASTRO: (Decimal("35.00"), False, 15),
    Service.Code.HEALING: (Decimal("45.00"), True, 10),
    Service.Code.DIRECT_CALL: (Decimal("60.00"), True, 20),
}


def population(scale: int) -> dict[str, int]:
    """Return how many users of each role a world of this scale has; clients grow linearly, staff slowly."""
    return {
        Role.SUPERADMIN: 1,
        Role.ADMIN: 2 + scale // 200,
        Role.MONITOR: 2 + scale // 100,
        Role.READER: 10 + scale // 4,
        Role.CLIENT: min(45 * scale, MAX_CLIENTS),
    }


def demo_email(role: str, number: int) -> str:
    """Return the demo address of the number-th user of a role: admin@, admin2@, reader1@, client1@ ..."""
    suffix = "" if role not in (Role.READER, Role.CLIENT) and number == 1 else str(number)
    return f"{role}{suffix}@{DEMO_DOMAIN}"


def seconds(value: int) -> dt.timedelta:
    """Return `value` seconds as a timedelta."""
    return dt.timedelta(seconds=value)


class World:
    """The seed, the anchor and what the builders share: the orders' random stream, clients, readers, services.

    Each phase draws from its own stream seeded with `seed`, so one phase's draws never shift another's.
    """

    def __init__(self, *, seed: int, anchor: dt.datetime):
        self.seed = seed
        self.anchor = anchor
        self.rng = random.Random(f"{seed}:orders")
        # Refund instants draw from a stream of their own: timing them leaves every other draw where it was.
        self.refund_rng = random.Random(f"{seed}:refunds")
        self.clients: list[User] = []
        self.readers: list[User] = []
        self.services: list[Service] = []
