"""Seed the moderation demo on seed_demo's world (once), or delete it (`--delete`, run by `seed_demo --reset`)."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand
from django.db.models import Count
from django.utils import timezone

from moderation.demo import demo_cases, demo_moderation_create, demo_moderation_delete, demo_ready


class Command(BaseCommand):
    help = "Open the demo's moderation cases (all priorities, one overdue) and an appeal, once; --delete removes them."

    def add_arguments(self, parser):
        parser.add_argument(
            "--today", type=dt.date.fromisoformat, default=None, help="seed_demo's anchor date (default: today, UTC)."
        )
        parser.add_argument(
            "--delete", action="store_true", help="Delete the cases about the demo world and stop (audit entries stay)."
        )

    def handle(self, *args, today, delete, **options):
        if delete:
            removed = demo_moderation_delete()
            self.stdout.write("Removed the moderation demo: " + ", ".join(f"{n} {k}" for k, n in removed.items()))
            return
        if not demo_ready():
            self.stdout.write("No demo users: run seed_demo first.")
            return
        # Seeded once: after that the cases are the staff's to work (resolve, lift, appeal), not to reopen.
        if demo_cases().exists():
            self.stdout.write("Moderation demo already seeded; seed_demo --reset rebuilds it.")
            return
        demo_moderation_create(today=today or timezone.now().date())
        by_priority = dict(demo_cases().values_list("priority").annotate(n=Count("id")).order_by())
        self.stdout.write(
            f"Moderation demo: {sum(by_priority.values())} cases ("
            + ", ".join(f"{p} {n}" for p, n in sorted(by_priority.items()))
            + "), one past its SLA, one open appeal."
        )
