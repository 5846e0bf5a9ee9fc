from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from samia.audit import services
from samia.audit.minisign import SigningUnavailable


class Command(BaseCommand):
    help = "Export one month of the audit trail as JSONL + manifest.json + minisign signature + public key."

    def add_arguments(self, parser):
        parser.add_argument("--month", required=True, help="YYYY-MM, a month that has ended")
        parser.add_argument("--out", required=True, type=Path, help="directory to write the export into")

    def handle(self, *args, month, out, **options):
        try:
            export = services.export_month(month=month, out_dir=out)
        except (ValueError, SigningUnavailable) as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"exported {month}: seq {export.first_seq}..{export.last_seq} ({export.row_count} rows) to {out}\n"
            f"manifest sha256 {export.manifest_sha256}\n"
            f"check it against the published key {export.key_id} (GET /admin/audit/public-key), never the copy in "
            f"the export: minisign -Vm {out}/manifest.json -p published.pub"
        )
