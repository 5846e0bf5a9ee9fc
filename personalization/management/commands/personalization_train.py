"""Run the nightly personalization job now (what Beat runs as personalization.train_nightly)."""

from django.core.management.base import BaseCommand

from personalization.nightly import run_nightly


class Command(BaseCommand):
    help = "Rebuild interactions, evaluate and train the models, fill the daily metrics, purge the ranking log."

    def handle(self, *args, **options):
        result = run_nightly()
        self.stdout.write(
            f"personalization: {result['interactions']} interactions, models {', '.join(result['models']) or 'none'}, "
            f"{result['metrics_rows']} metrics rows, {result['log_purged']} log rows purged"
        )
