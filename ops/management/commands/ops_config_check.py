from django.core.management.base import BaseCommand, CommandError

from ops import config_check


class Command(BaseCommand):
    help = (
        "Configuration hygiene: every setting in .env.example, no secret default in production, "
        "check --deploy clean with an example production environment, .env kept out of the image, "
        "requirements pinned with ==."
    )

    def handle(self, *args, **options):
        found = config_check.problems()
        for problem in found:
            self.stderr.write(f"- {problem}")
        if found:
            raise CommandError(f"ops_config_check: {len(found)} problem(s)")
        self.stdout.write("ops_config_check: configuration is clean")
