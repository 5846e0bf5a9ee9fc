from django.core.management.base import BaseCommand

from samia.audit import minisign


class Command(BaseCommand):
    help = "Print a new audit signing key as AUDIT_SIGNING_KEY / AUDIT_SIGNING_KEY_ID lines for .env."

    def handle(self, *args, **options):
        seed, key_id = minisign.generate()
        key = minisign.SigningKey.from_config(seed_b64=seed, key_id_hex=key_id)
        self.stdout.write(f"AUDIT_SIGNING_KEY={seed}\nAUDIT_SIGNING_KEY_ID={key_id}")
        self.stderr.write(
            "The public key (also served at GET /admin/audit/public-key):\n" + minisign.public_key_text(key)
        )
