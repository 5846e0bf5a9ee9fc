import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from samia.audit import exports, minisign


class Command(BaseCommand):
    help = (
        "Recompute every hash of the audit chain (live table, or an export offline with --export DIR) and name "
        "the first damage: modified, deleted, inserted, reordered or truncated. Live, also check the signed "
        "checkpoints, and with --witness compare them with the write-once witness."
    )
    requires_system_checks = []
    requires_migrations_checks = False

    def add_arguments(self, parser):
        parser.add_argument("--export", type=Path, help="verify this export directory offline (no database)")
        parser.add_argument(
            "--public-key",
            type=Path,
            help="the published public key (GET /admin/audit/public-key); default: AUDIT_PUBLIC_KEY, else the "
            "configured signing key. Never the .pub inside an export.",
        )
        parser.add_argument(
            "--witness",
            nargs="?",
            const="",
            metavar="URL",
            help="compare the checkpoints with the witness (default: AUDIT_WITNESS)",
        )

    def handle(self, *args, export=None, public_key=None, witness=None, **options):
        started = time.perf_counter()
        try:
            trusted, source = minisign.trusted_public_key(public_key)
            key_id = minisign.public_key_id(trusted)
        except (minisign.SigningUnavailable, ValueError, OSError) as error:
            raise CommandError(f"refused: {error}") from None
        self.stdout.write(f"trusted key {key_id}: {source} (published at GET /admin/audit/public-key)")
        problems = []
        if export is not None:
            if not (export / exports.MANIFEST).is_file():
                raise CommandError(f"{export} holds no {exports.MANIFEST}")
            result = exports.verify_export(export, public_key=trusted)
            report, problems = result.chain, result.problems
            self.stdout.write(f"export {result.manifest['month']}: manifest signature and file hashes checked")
        else:
            report, problems = self._live(trusted, witness)
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

    def _live(self, trusted, witness_url):
        from samia.audit import checkpoints, witness
        from samia.audit.selectors import chain_verify

        report, problems = chain_verify(), []
        damage = checkpoints.checkpoints_verify(public_key=trusted)
        if damage:
            problems.append(str(damage))
        if witness_url is not None:
            try:
                store = witness.from_url(witness_url) if witness_url else witness.configured()
                damage, pending = checkpoints.witness_compare(store=store, public_key=trusted)
            except (ValueError, witness.WitnessError) as error:
                return report, [*problems, f"witness: {error}"]
            self.stdout.write(f"witness {store}: compared ({pending} checkpoints not witnessed yet)")
            if damage:
                problems.append(f"witness: {damage}")
        return report, problems
