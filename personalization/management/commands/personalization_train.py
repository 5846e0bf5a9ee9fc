"""Run the nightly personalization job now (what Beat runs as personalization.train_nightly)."""

from django.core.management.base import BaseCommand

from personalization.models import TrainedModel
from personalization.nightly import run_nightly


class Command(BaseCommand):
    help = "Rebuild interactions, evaluate and train the models, fill the daily metrics, purge the ranking log."

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-untrained", action="store_true", help="Do nothing when a model is already stored (make seed)."
        )

    def handle(self, *args, if_untrained=False, **options):
        if if_untrained and TrainedModel.objects.exists():
            self.stdout.write("personalization: a model is already trained; nothing to do")
            return
        result = run_nightly()
        self.stdout.write(
            f"personalization: {result['interactions']} interactions, models {', '.join(result['models']) or 'none'}, "
            f"{result['metrics_rows']} metrics rows, {result['log_purged']} log rows purged"
        )
