from django.core.management.base import BaseCommand, CommandError

from samia.audit.selectors import chain_verify


class Command(BaseCommand):
    help = (
        "Verify the audit chain's hashes and links (no checkpoint signatures); exit 1 on damage. Used by restore_drill."
    )

    def handle(self, *args, **options):
        report = chain_verify()
        self.stdout.write(str(report))
        if not report.ok:
            raise CommandError("the audit chain does not verify")
