import sys

from django.core.management.base import BaseCommand, CommandError

from ops.services import credential_probe
from samia.exceptions import DomainError
from samia.secrets import catalog
from samia.secrets import services as secrets


class Command(BaseCommand):
    help = (
        "Store a new provider credential read from standard input; it becomes active only when the "
        "provider's probe passes with it, otherwise the version in use stays and this exits 1."
    )

    def add_arguments(self, parser):
        parser.add_argument("name", help=", ".join(sorted(catalog.CREDENTIALS)))
        parser.add_argument(
            "--key-id",
            default="",
            help=(
                "apns_key: the key id Apple shows for the .p8 key read from standard input; "
                "s3_access_key: the access key id (AKIA...) of the secret read from standard input"
            ),
        )

    def handle(self, *args, name, key_id, **options):
        if catalog.kind(name) == "rotating":
            raise CommandError(
                f"{name} is a generated key: the app makes its values (rotate it with POST /admin/secrets/rotate "
                "or on the back office's keyring page), nothing sets one"
            )
        if catalog.kind(name) != "credential":
            reason = catalog.NEVER_ROTATED.get(name.upper())
            raise CommandError(f"{name} is never rotated: {reason}" if reason else f"unknown credential {name}")
        value = sys.stdin.buffer.read().strip()
        if not value:
            raise CommandError("nothing on standard input")
        try:
            text = value.decode()
        except UnicodeDecodeError:  # said without the bytes: the error's own text quotes one of them
            raise CommandError("the value is not UTF-8 text (a token, a JSON key file or a PEM key)") from None
        if bool(key_id) != (name in ("apns_key", "s3_access_key")):
            raise CommandError("--key-id goes with apns_key and s3_access_key, and they need it")
        if name == "apns_key":
            value = catalog.apns_key_value(key_id=key_id, key=text + "\n").encode()
        elif name == "s3_access_key":
            value = catalog.s3_access_key_value(key_id=key_id, secret=text).encode()
        try:
            details = secrets.secret_set(name=name, value=value, actor="system:ops", probe=credential_probe)
        except secrets.ProbeFailed as error:
            raise CommandError(f"the probe failed ({error.detail}): the previous version stays active") from None
        except DomainError as error:
            raise CommandError(error.message) from None
        self.stdout.write(f"{name} version {details['version']} active (fingerprint {details['fingerprint']})")
