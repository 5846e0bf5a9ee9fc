"""Seed a deterministic demo world: every role, every order state, calls, payments with fallbacks, horoscopes."""

from __future__ import annotations

import datetime as dt

from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from samia.accounts.models import Role, User
from samia.marketplace.demo.content import horoscopes_create
from samia.marketplace.demo.events import engagement_events_create, events_derive
from samia.marketplace.demo.orders import ORDER_STATUSES, orders_create, services_ensure
from samia.marketplace.demo.people import users_create
from samia.marketplace.demo.reset import ABSENT, OTHER, PRESENT, demo_world_delete, demo_world_size, demo_world_state
from samia.marketplace.demo.world import DEMO_DOMAIN, DEMO_PASSWORD, ORDERS_PER_SCALE, World, demo_email, population
from samia.marketplace.models import Call, Horoscope, Order, Payment

# Commands of the milestone apps that seed on top of this world (`make seed` runs them after this
# one). A reset runs their --delete first, in the same transaction: their rows point at ours. Named,
# not imported: the kernel imports no milestone app, and one that is not installed is skipped.
EXTENSIONS = ("seed_moderation", "seed_notifications")


class Command(BaseCommand):
    help = "Seed a deterministic demo world (users @demo.samia.test, orders, calls, payments, horoscopes)."

    def add_arguments(self, parser):
        parser.add_argument("--scale", type=int, default=1, help="About 500 orders per unit (default 1).")
        parser.add_argument("--seed", type=int, default=42, help="Random seed (default 42).")
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Delete the demo users and their rows (and horoscopes they approved), with what seed_moderation and "
            "seed_notifications made, then seed again. Audit entries stay: the trail is append-only.",
        )
        parser.add_argument(
            "--delete", action="store_true", help="Delete the demo world as --reset does, and stop there."
        )
        parser.add_argument(
            "--today", type=dt.date.fromisoformat, default=None, help="Anchor date, YYYY-MM-DD (default: today, UTC)."
        )

    def handle(self, *args, scale, seed, reset, delete, today, verbosity, **options):
        if scale < 1:
            raise CommandError("--scale must be at least 1.")
        # The one reading of the clock: midnight UTC today keeps the data recent and a day's runs identical.
        anchor = dt.datetime.combine(today or timezone.now().date(), dt.time(), tzinfo=dt.UTC)
        world = World(seed=seed, anchor=anchor)
        expected = (sum(population(scale).values()), ORDERS_PER_SCALE * scale)
        # One transaction: a reset that is refused, or a build that fails, leaves the old world as it was.
        with transaction.atomic():
            if reset or delete:
                self.extensions_delete()
                removed = demo_world_delete()
                self.stdout.write(f"Removed the demo world: {removed[0]} users, {removed[1]} orders.")
                if delete:
                    return
            state = demo_world_state(scale)
            existing = demo_world_size()
            if state == PRESENT:
                # Seeded before and maybe used since (more orders, blocks, cases): left as it is.
                self.stdout.write(
                    f"Demo world already seeded ({existing[0]} users, {existing[1]} orders); "
                    "run with --reset to rebuild it."
                )
            elif state == OTHER:
                raise CommandError(
                    f"A demo world of another scale, or a partial one, exists ({existing[0]} users, {existing[1]} "
                    f"orders; scale {scale} has {expected[0]} and {expected[1]}). Run with --reset to replace it."
                )
            services_ensure(world)
            if state == ABSENT:
                users_create(world, scale=scale)
                orders_create(world, total=expected[1], progress=self.stderr._out, quiet=verbosity == 0)
                events = events_derive()
                self.stdout.write(f"Derived {events} analytics events from the demo orders, payments and calls.")
            horoscopes_create(world)
            if state == ABSENT:
                engagement = engagement_events_create(world, scale=scale)
                self.stdout.write(
                    f"Wrote {engagement} app sessions and horoscope listens of the demo users and devices."
                )
        self.summary_write(scale=scale, seed=seed)

    def extensions_delete(self) -> None:
        """Run the --delete of the installed commands that seed on top of this world (their rows go first)."""
        installed = get_commands()
        for name in EXTENSIONS:
            if name in installed:
                call_command(name, delete=True, stdout=self.stdout, stderr=self.stderr)

    def summary_write(self, *, scale: int, seed: int) -> None:
        """Write what the demo world holds and how to log in to it."""
        demo = f"@{DEMO_DOMAIN}"
        orders = Order.objects.filter(client__email__endswith=demo)
        statuses = dict(orders.values_list("status").annotate(n=Count("id")).order_by())
        counts = {
            "users": User.objects.filter(email__endswith=demo).count(),
            "orders": sum(statuses.values()),
            "payments": Payment.objects.filter(order__client__email__endswith=demo).count(),
            "calls": Call.objects.filter(order__client__email__endswith=demo).count(),
            "horoscopes": Horoscope.objects.count(),
        }
        self.stdout.write(
            f"Demo world, scale {scale}, seed {seed}: " + ", ".join(f"{n} {k}" for k, n in counts.items())
        )
        self.stdout.write("Orders by status: " + ", ".join(f"{s} {statuses.get(s, 0)}" for s in ORDER_STATUSES))
        self.stdout.write(self.style.SUCCESS(f"Demo accounts, password {DEMO_PASSWORD}:"))
        for role in (Role.SUPERADMIN, Role.ADMIN, Role.MONITOR, Role.READER, Role.CLIENT):
            self.stdout.write(f"  {role:<11} {demo_email(role, 1)}")
