"""Seed the i18n demo (toggles, glossary, a few auto/stale rows) once, so /admin/i18n/status shows something."""

from django.core.management.base import BaseCommand

from i18n.demo import demo_i18n_create, demo_seeded
from samia.marketplace.models import Horoscope


class Command(BaseCommand):
    help = "Create the translation demo (auto, stale and reviewed rows on the demo horoscopes) once."

    def handle(self, *args, **options):
        if not Horoscope.objects.exists():
            self.stdout.write("No horoscopes: run seed_demo first.")
            return
        if demo_seeded():
            self.stdout.write("i18n demo already seeded.")
            return
        made = demo_i18n_create()
        self.stdout.write("i18n demo: " + ", ".join(f"{n} {kind}" for kind, n in made.items()))
