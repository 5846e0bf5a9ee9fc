"""Show whether each notification channel's provider is configured and answering.

Operators run it after changing credentials: it probes each configured provider once (an access
token for FCM, a connection for APNs, the account resource for Twilio) and prints codes only,
never credentials. Exit status 1 when a configured provider does not answer.
"""

from django.core.management.base import BaseCommand, CommandError

from samia.providers import registry


class Command(BaseCommand):
    help = "Probe the FCM, APNs and Twilio providers (configured or not, answering or not)."

    def handle(self, *args, **options):
        failing = []
        self.stdout.write(f"{'provider':<10} {'state':<16} detail")
        for health in registry.health():
            try:
                sandbox = registry.get(health.provider).sandbox
            except Exception:  # unconfigured: reported by health() already
                sandbox = False
            if health.available:
                state = "sandbox" if sandbox else "available"
            elif health.detail == "not_configured":
                state = "not configured"  # sends stay deferred, never faked
            else:
                state = "unavailable"
                failing.append(health.provider)
            self.stdout.write(f"{health.provider:<10} {state:<16} {health.detail}")
        if failing:
            raise CommandError(f"not answering: {', '.join(failing)}")
