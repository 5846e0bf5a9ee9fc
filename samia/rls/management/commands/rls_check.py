from django.core.management.base import BaseCommand, CommandError

from samia.rls import catalog
from samia.rls.registry import FRAMEWORK, PERSONAS


class Command(BaseCommand):
    help = "Print the role x table x operation matrix from the live catalog; fail when it drifts from the declarations."

    def handle(self, *args, **options):
        rows = catalog.matrix()
        width = max(len(t) for t, _ in rows) if rows else 10
        self.stdout.write(f"{'table':<{width}}  " + "  ".join(f"{p:<10}" for p in PERSONAS))
        for table, cells in rows:
            self.stdout.write(f"{table:<{width}}  " + "  ".join(f"{cells[p]:<10}" for p in PERSONAS))
        self.stdout.write("(S select, I insert, U update, D delete; rows further limited by each policy)")
        self.stdout.write("\nframework tables (no RLS):")
        for table, entry in sorted(FRAMEWORK.items()):
            grants = ",".join(entry.grants) or "no access"
            self.stdout.write(f"  {table} [{grants}]: {entry.reason}")
        problems = catalog.check()
        if problems:
            for problem in problems:
                self.stderr.write(f"DRIFT {problem}")
            raise CommandError(f"rls_check: {len(problems)} problem(s)")
        self.stdout.write(self.style.SUCCESS("\nrls_check: catalog matches the declarations"))
