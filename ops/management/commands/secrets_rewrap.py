from django.core.management.base import BaseCommand, CommandError

from samia.exceptions import DomainError
from samia.secrets import services as secrets


class Command(BaseCommand):
    help = "Re-encrypt every keyring version under the first of SECRETS_MASTER_KEYS (after adding a new one first)."

    def handle(self, *args, **options):
        try:
            count = secrets.secrets_rewrap()
        except DomainError as error:
            raise CommandError(error.message) from None
        self.stdout.write(f"{count} versions re-encrypted under the first master key")
