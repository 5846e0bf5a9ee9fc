"""Configuration hygiene, checked by `manage.py ops_config_check` (and so by `make test`).

- every environment variable samia/settings/ reads is documented in .env.example;
- with DEBUG off, no secret has a default: unset, the settings refuse to load or leave it empty;
- `check --deploy` is clean with an example production environment (.env.example, keys generated);
- .dockerignore keeps .env out of the image; requirements.txt pins every package with ==.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import re
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path

from cryptography.fernet import Fernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

import samia

_READ = re.compile(r'(?:env(?:\.\w+)?|required_secret)\(\s*"([A-Z][A-Z0-9_]+)"')
_DOCUMENTED = re.compile(r"^#?\s*([A-Z][A-Z0-9_]+)=", re.MULTILINE)
# A variable holding a key, a credential or a password (key *ids* and public values are not secrets).
SECRET = re.compile(r"(SECRET|_KEY|_KEYS|TOKEN|PASSWORD|_JSON|_PEM)$")
NOT_SECRET = {"AUDIT_PUBLIC_KEY"}  # a path to a published public key
BEHIND_TLS = {
    "SECURE_SSL_REDIRECT": "1",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "1",
    "SECURE_HSTS_PRELOAD": "1",
    "SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO,https",
    "ALLOWED_HOSTS": "api.samia.example",
}


SETTINGS_DIR = "samia/settings"


def declared(source: Path | None = None) -> set[str]:
    """The environment variables the settings read (`source`: one file or a folder of them)."""
    source = source or Path(settings.BASE_DIR) / SETTINGS_DIR
    files = sorted(source.glob("*.py")) if source.is_dir() else [source]
    return set().union(*(_READ.findall(path.read_text()) for path in files))


def documented(example: Path | None = None) -> set[str]:
    return set(_DOCUMENTED.findall((example or Path(settings.BASE_DIR) / ".env.example").read_text()))


def generated(name: str) -> str:
    """A fresh value of the shape secret `name` takes."""
    if name == "SECRETS_MASTER_KEYS":
        return Fernet.generate_key().decode()
    if name.endswith("_KEYS"):
        return f"k1={secrets.token_urlsafe(32)}"
    return secrets.token_urlsafe(48)


def production_environment(example: Path | None = None) -> tuple[dict[str, str], list[str]]:
    """The example production environment: .env.example's uncommented values, placeholders replaced by
    fresh keys, DEBUG off; plus the required secrets it had to add (each is a problem of the example)."""
    environment = {}
    for line in (example or Path(settings.BASE_DIR) / ".env.example").read_text().splitlines():
        match = re.match(r"^([A-Z][A-Z0-9_]+)=(.*)$", line.strip())
        if match:
            name, value = match.groups()
            fresh = generated(name).split("=")[-1]
            environment[name] = re.sub(r"replace-me[\w-]*", lambda _, fresh=fresh: fresh, value)
    # A deployment behind a TLS-terminating proxy, as OPS_README.md describes it.
    environment.update(DEBUG="0", **BEHIND_TLS)
    added = []
    for _ in range(len(declared())):
        try:
            _load(environment)
            break
        except ImproperlyConfigured as error:
            missing = re.match(r"([A-Z][A-Z0-9_]+) must be set", str(error))
            if not missing or missing.group(1) in environment:
                raise
            added.append(missing.group(1))
            environment[missing.group(1)] = generated(missing.group(1))
    return environment, added


@contextlib.contextmanager
def _environment(values: dict[str, str]):
    saved = dict(os.environ)
    with tempfile.NamedTemporaryFile("w", suffix=".env") as empty:
        os.environ.clear()
        os.environ.update({**values, "ENV_FILE": empty.name, "PATH": saved.get("PATH", "")})
        try:
            yield
        finally:
            os.environ.clear()
            os.environ.update(saved)


def _load(values: dict[str, str]) -> dict:
    """The settings as a process started with `values` as its whole environment would read them."""
    package = "samia.settings"
    ours = lambda name: name == package or name.startswith(f"{package}.")  # noqa: E731
    saved = {name: module for name, module in sys.modules.items() if ours(name)}
    with _environment(values):
        for name in saved:
            del sys.modules[name]
        try:
            return dict(vars(importlib.import_module(package)))
        finally:
            # Put this process's own settings modules back, as if the fresh import never happened.
            for name in [name for name in sys.modules if ours(name)]:
                del sys.modules[name]
            sys.modules.update(saved)
            samia.settings = saved.get(package, samia.settings)


def secret_defaults(environment: dict[str, str]) -> list[str]:
    """Secrets that still get a value in production when their variable is unset."""
    found = []
    for name in sorted(declared()):
        if not SECRET.search(name) or name in NOT_SECRET:
            continue
        try:
            loaded = _load({key: value for key, value in environment.items() if key != name})
        except ImproperlyConfigured:
            continue  # refused: production must set it
        value = loaded.get(name)
        if value and value != (environment.get(name) or None):
            found.append(name)
    return found


def deploy_check(environment: dict[str, str]) -> str:
    """`manage.py check --deploy` with the production environment; its output when it is not clean."""
    with tempfile.NamedTemporaryFile("w", suffix=".env") as empty:
        result = subprocess.run(
            [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
            cwd=settings.BASE_DIR,
            env={
                **environment,
                "PATH": os.environ.get("PATH", ""),
                "ENV_FILE": empty.name,
                "DJANGO_SETTINGS_MODULE": "samia.settings",
            },
            capture_output=True,
            text=True,
            check=False,
        )
    return "" if result.returncode == 0 else (result.stdout + result.stderr)[-3000:]


def problems() -> list[str]:
    """Every hygiene failure, in words (no values)."""
    base = Path(settings.BASE_DIR)
    found = [
        f"{name} is read by samia/settings/ but not documented in .env.example"
        for name in sorted(declared() - documented())
    ]
    environment, added = production_environment()
    found += [f"{name} is required in production but .env.example sets no placeholder for it" for name in added]
    found += [
        f"{name} has a default when DEBUG is off: production must set it" for name in secret_defaults(environment)
    ]
    deploy = deploy_check(environment)
    if deploy:
        found.append(f"check --deploy is not clean with the example production environment:\n{deploy}")
    ignored = {line.strip() for line in (base / ".dockerignore").read_text().splitlines()}
    if not {".env", ".env*", "*.env"} & ignored:
        found.append(".dockerignore does not keep .env out of the image")
    for line in (base / "requirements.txt").read_text().splitlines():
        requirement = line.split("#", 1)[0].strip()
        if requirement and (not re.match(r"^[A-Za-z0-9_.\-\[\],]+==[A-Za-z0-9_.+\-]+$", requirement)):
            found.append(f"requirements.txt: {requirement} is not pinned with ==")
    return found
