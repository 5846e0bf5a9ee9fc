from django.core.management.base import BaseCommand, CommandError

from sre.backups import BackupError, backup_snapshot


class Command(BaseCommand):
    help = "pg_dump -Fc the database as the owner: the dump, its sha256 and every table's row count; prune old ones."

    def handle(self, *args, **options):
        try:
            backup = backup_snapshot()
        except BackupError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"backup #{backup.pk} {backup.kind} {backup.file_name} {backup.size_bytes} bytes sha256 {backup.sha256}"
        )
