"""Start a personalization experiment on a surface (the surface's previous experiment stops)."""

import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from personalization.services import experiment_create


class Command(BaseCommand):
    help = 'Start an experiment: --name N --surface readers --variants \'{"popularity": 50, "model": 50}\''

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True)
        parser.add_argument("--surface", required=True)
        parser.add_argument("--variants", default='{"popularity": 50, "model": 50}')

    def handle(self, *args, name, surface, variants, **options):
        try:
            experiment = experiment_create(
                name=name, surface=surface, variants=json.loads(variants), actor="system:personalization_experiment"
            )
        except (ValueError, ValidationError) as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"experiment {experiment.pk} on {experiment.surface}: {experiment.variants}")
