from django.core.management.base import BaseCommand, CommandError

from sre.backups import BackupError
from sre.drills import restore_drill
from sre.models import Backup


class Command(BaseCommand):
    help = "Restore a backup into a scratch database, compare row counts, run rls_check and the chain check, drop it."

    def add_arguments(self, parser):
        parser.add_argument("--backup", type=int, help="the backup's id (default: the newest)")

    def handle(self, *args, **options):
        backup = Backup.objects.get(pk=options["backup"]) if options["backup"] else None
        try:
            drill = restore_drill(backup=backup)
        except BackupError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"restore drill #{drill.pk} {drill.result} in {drill.duration_seconds:.1f} s: {drill.details}"
        )
        if drill.result != drill.Result.PASSED:
            raise CommandError("the restore drill failed")
