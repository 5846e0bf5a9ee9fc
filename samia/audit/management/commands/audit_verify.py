import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from samia.audit import exports


class Command(BaseCommand):
    help = (
        "Recompute every hash of the audit chain (live table, or an export offline with --export DIR) and name "
        "the first damage: modified, deleted, inserted, reordered or truncated."
    )
    requires_system_checks = []
    requires_migrations_checks = False

    def add_arguments(self, parser):
        parser.add_argument("--export", type=Path, help="verify this export directory offline (no database)")
        parser.add_argument("--public-key", type=Path, help="the published public key (default: the export's)")

    def handle(self, *args, export=None, public_key=None, **options):
        started = time.perf_counter()
        problems = []
        if export is not None:
            if not (export / exports.MANIFEST).is_file():
                raise CommandError(f"{export} holds no {exports.MANIFEST}")
            result = exports.verify_export(export, public_key=public_key)
            report, problems = result.chain, result.problems
            self.stdout.write(f"export {result.manifest['month']}: manifest signature and file hashes checked")
        else:
            from samia.audit.selectors import chain_verify

            report = chain_verify()
        elapsed = max(time.perf_counter() - started, 1e-9)
        self.stdout.write(f"{report.rows} rows checked in {elapsed:.2f}s ({report.rows / elapsed:,.0f} rows/s)")
        for problem in problems:
            self.stdout.write(f"problem: {problem}")
        if not report.ok:
            damage = report.damage
            self.stdout.write(f"DAMAGE: first bad seq {damage.seq}, kind {damage.kind}: {damage.detail}")
        if problems or not report.ok:
            raise CommandError("the audit chain does not verify")
        self.stdout.write(f"ok: seq {report.first_seq}..{report.last_seq}, head {report.head_hash}")
