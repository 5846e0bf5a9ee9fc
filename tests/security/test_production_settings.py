"""Issue 14, item 13: production settings are safe by default, and a production start refuses weak keys.

Settings are read once per process, so each case starts `manage.py` or Python in a subprocess
with an environment of its own (ENV_FILE points away from any local .env).
"""

import json
import os
import re
import secrets
import subprocess
import sys

import pytest
from django.conf import settings

PRINT_SETTINGS = (
    "import django, json; django.setup(); from django.conf import settings as s; print(json.dumps({name: "
    "getattr(s, name) for name in ('DEBUG', 'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'SECURE_HSTS_SECONDS', "
    "'SECURE_SSL_REDIRECT', 'SECURE_PROXY_SSL_HEADER')}))"
)


def _key() -> str:
    return secrets.token_urlsafe(50)


def production(**overrides) -> dict:
    """What a production deployment sets: DEBUG off and a generated key for every purpose."""
    environment = {
        "DEBUG": "0",
        "SECRET_KEY": _key(),
        "JWT_SIGNING_KEY": _key(),
        "NOTIFICATIONS_LINK_KEYS": f"k1={_key()}",
        "RLS_BINDING_KEY": _key(),
        "COMMUNITY_HANDLE_KEY": _key(),
        "EVENTS_HASH_KEY": _key(),
        "NOTIFICATIONS_ADDRESS_KEY": _key(),
        "STORAGE_URL_KEYS": f"k0={_key()}",
        "ALLOWED_HOSTS": "api.samia.example",
    }
    environment.update(overrides)
    return {name: value for name, value in environment.items() if value is not None}


def _run(args: list[str], environment: dict, tmp_path) -> subprocess.CompletedProcess:
    empty = tmp_path / "empty.env"
    empty.touch()
    clean = {"PATH": os.environ["PATH"], "ENV_FILE": str(empty), "DJANGO_SETTINGS_MODULE": "samia.settings"}
    return subprocess.run(
        [sys.executable, *args], cwd=settings.BASE_DIR, env={**clean, **environment}, capture_output=True, text=True
    )


def _settings(environment: dict, tmp_path) -> dict:
    result = _run(["-c", PRINT_SETTINGS], environment, tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout)


def test_check_deploy_is_clean_with_a_production_environment(tmp_path):
    environment = production(
        SECURE_SSL_REDIRECT="1",
        SECURE_HSTS_INCLUDE_SUBDOMAINS="1",
        SECURE_HSTS_PRELOAD="1",
        SECURE_PROXY_SSL_HEADER="HTTP_X_FORWARDED_PROTO,https",
    )

    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], environment, tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_defaults_to_secure_cookies_and_hsts_but_no_redirect(tmp_path):
    assert _settings(production(), tmp_path) == {
        "DEBUG": False,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_HSTS_SECONDS": 31536000,
        "SECURE_SSL_REDIRECT": False,
        "SECURE_PROXY_SSL_HEADER": None,
    }


def test_the_knobs_turn_the_redirect_and_the_proxy_header_on_and_the_cookies_off(tmp_path):
    environment = production(
        SECURE_COOKIES="0",
        SECURE_HSTS_SECONDS="600",
        SECURE_SSL_REDIRECT="1",
        SECURE_PROXY_SSL_HEADER="HTTP_X_FORWARDED_PROTO,https",
    )

    assert _settings(environment, tmp_path) == {
        "DEBUG": False,
        "SESSION_COOKIE_SECURE": False,
        "CSRF_COOKIE_SECURE": False,
        "SECURE_HSTS_SECONDS": 600,
        "SECURE_SSL_REDIRECT": True,
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
    }


def _placeholder() -> str:
    text = (settings.BASE_DIR / ".env.example").read_text()
    return re.search(r"^SECRET_KEY=(.+)$", text, re.MULTILINE).group(1)


@pytest.mark.parametrize("debug", ["0", "1"])
def test_startup_refuses_the_env_example_placeholder_secret_key(tmp_path, debug):
    result = _run(["manage.py", "check"], production(DEBUG=debug, SECRET_KEY=_placeholder()), tmp_path)

    assert result.returncode != 0
    assert "SECRET_KEY is still the .env.example placeholder" in result.stderr


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ({"JWT_SIGNING_KEY": None}, "JWT_SIGNING_KEY must be set when DEBUG is off"),
        ({"JWT_SIGNING_KEY": ""}, "JWT_SIGNING_KEY must be set when DEBUG is off"),
        ({"NOTIFICATIONS_LINK_KEYS": None}, "NOTIFICATIONS_LINK_KEYS must be set when DEBUG is off"),
        ({"NOTIFICATIONS_LINK_KEYS": "k1=replace-me"}, "NOTIFICATIONS_LINK_KEYS is still the .env.example placeholder"),
    ],
)
def test_production_refuses_to_derive_the_token_and_link_keys_from_secret_key(tmp_path, missing, message):
    result = _run(["manage.py", "check"], production(**missing), tmp_path)

    assert result.returncode != 0
    assert message in result.stderr


def test_debug_still_starts_with_a_secret_key_alone(tmp_path):
    assert _settings({"DEBUG": "1", "SECRET_KEY": _key()}, tmp_path)["DEBUG"] is True


def test_the_env_that_make_run_writes_starts_the_local_demo_on_plain_http(tmp_path):
    subprocess.run(
        ["make", "-s", "-f", str(settings.BASE_DIR / "Makefile"), ".env", f"PYTHON={sys.executable}"],
        cwd=tmp_path,
        check=True,
        capture_output=True,
    )
    written = (tmp_path / ".env").read_text()

    result = _run(["-c", PRINT_SETTINGS], {"ENV_FILE": str(tmp_path / ".env")}, tmp_path)

    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout)["DEBUG"] is False
    assert json.loads(result.stdout)["SESSION_COOKIE_SECURE"] is False  # http://127.0.0.1:8000
    values = dict(line.split("=", 1) for line in written.splitlines())
    keys = {values["SECRET_KEY"], values["JWT_SIGNING_KEY"], values["NOTIFICATIONS_LINK_KEYS"].removeprefix("k0=")}
    assert len(keys) == 3 and min(map(len, keys)) >= 50  # generated, one per purpose
