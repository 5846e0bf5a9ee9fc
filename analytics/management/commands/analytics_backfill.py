import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from analytics.rollups import rollup_days


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
        parser.add_argument("--chunk-days", type=int, default=1, help="Days per transaction (default 1).")

    def handle(self, *args, **options):
        first, last = _date(options["first"]), _date(options["last"])
        if last < first:
            raise CommandError("--to is before --from")
        chunk = max(1, options["chunk_days"])
        total = (last - first).days + 1
        with tqdm(total=total, unit="day", disable=options["verbosity"] == 0) as progress:
            day = first
            while day <= last:
                end = min(last, day + dt.timedelta(days=chunk - 1))
                rollup_days(first=day, last=end)
                progress.update((end - day).days + 1)
                day = end + dt.timedelta(days=1)
        self.stdout.write(f"Rolled up {total} day(s): {first} .. {last}")
