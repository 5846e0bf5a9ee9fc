import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from analytics.rollups import backfill


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"not an ISO date (YYYY-MM-DD): {value!r}") from None


class Command(BaseCommand):
    help = "Recompute the daily analytics aggregates for a range of business days (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="first", required=True, help="First business day, YYYY-MM-DD.")
        parser.add_argument("--to", dest="last", required=True, help="Last business day, YYYY-MM-DD (inclusive).")
        parser.add_argument("--chunk-days", type=int, default=7, help="Days per transaction (default 7).")

    def handle(self, *args, **options):
        first, last = _date(options["first"]), _date(options["last"])
        if last < first:
            raise CommandError("--to is before --from")
        chunk = max(1, options["chunk_days"])
        total = (last - first).days + 1
        with tqdm(total=total, unit="day", disable=options["verbosity"] == 0) as progress:
            backfill(first=first, last=last, chunk_days=chunk, on_chunk=progress.update)
        self.stdout.write(f"Rolled up {total} day(s): {first} .. {last}")
