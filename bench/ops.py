"""Secrets and provider ops (M28), run by hand (never part of pytest):

    .venv/bin/python bench/ops.py [--calls 5000] [--drill]

1. Breaker and switch overhead per provider call: a Guarded send (switch read + circuit check +
   result recorded, all through Redis) against a bare call to the same local fake adapter (a
   trivial in-process send, so the difference is ours alone). Goal: p99 of the difference <= 1 ms.
2. JWT verification with 3 keys in the ring against 1 (the kid picks the key). Goal: <= 5% slower.
3. Keyring reload (owner connection, read, decrypt every version). Goal: <= 50 ms.
--drill rotates each generated key once in another process and times how long this process takes to
sign with the new key (the generation is checked at most every 5 s), then checks the old key verifies
during its grace and not after retirement: the figures OPS_README.md quotes.

It works in its own database (BENCH_DATABASE_URL, default postgres://root@127.0.0.1:5432/samia_bench_ops),
created when missing and migrated; the keyring there is emptied at the start.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://root@127.0.0.1:5432/samia_bench_ops")
os.environ["DATABASE_URL"] = DATABASE_URL
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "samia.settings")
os.environ.setdefault("CACHE_KEY_PREFIX", "samia-bench-ops")
os.environ.setdefault("SECRETS_MASTER_KEYS", "YmVuY2gtb25seS1tYXN0ZXIta2V5LTMyLWJ5dGVzISE=")
from bench.keys import BENCH_KEYS  # noqa: E402

for _name, _value in BENCH_KEYS.items():
    os.environ.setdefault(_name, _value)


def _database() -> None:
    name = DATABASE_URL.rsplit("/", 1)[1]
    server = DATABASE_URL.rsplit("/", 1)[0] + "/postgres"
    exists = subprocess.run(
        ["psql", server, "-tAc", f"SELECT 1 FROM pg_database WHERE datname = '{name}'"], capture_output=True, text=True
    ).stdout.strip()
    if exists != "1":
        subprocess.run(["createdb", "--maintenance-db", server, name], check=True)
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, check=True)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def bench_breaker(calls: int) -> dict:
    from samia.providers import registry, toggles
    from samia.providers.base import Outcome, Provider, Result

    class Local(Provider):
        name = "bench"

        def configured(self):
            return True

        def send(self, **message):
            return Result(Outcome.SENT, message_id="x")

    bare = Local()
    guarded = registry.Guarded(bare, registry.breaker("bench"))
    toggles.enabled("bench")
    floor, ours = [], []
    for _ in range(calls):
        started = time.perf_counter()
        bare.send(to="+1")
        floor.append(time.perf_counter() - started)
        started = time.perf_counter()
        if not toggles.enabled("bench"):  # what registry.get() adds besides the circuit
            raise SystemExit("bench switched off")
        guarded.send(to="+1")
        ours.append(time.perf_counter() - started)
    overhead = [(b - a) * 1000 for a, b in zip(floor, ours, strict=True)]
    return {"p50_ms": statistics.median(overhead), "p99_ms": percentile(overhead, 0.99)}


def bench_jwt(rounds: int) -> dict:
    """Verify one token against a ring of 1 key and of 3 (its key last: the longest search), in
    alternating blocks so that the machine's load falls on both alike; medians of the blocks."""
    import jwt as pyjwt
    from rest_framework_simplejwt.tokens import AccessToken

    from samia.secrets import keyring, store
    from samia.secrets import services as secret_services

    for _ in range(2):
        with store.owner_transaction() as cursor:
            cursor.execute("UPDATE secrets_secretversion SET activated_at = activated_at - interval '2 minutes'")
        secret_services.secret_rotate(name="jwt", actor="system:bench")
    keyring.reload(keyring.generation())
    three = keyring.verifying("jwt")
    assert len(three) == 3
    oldest = three[-1]
    claims = dict(AccessToken().payload)
    token = pyjwt.encode(claims, oldest.value, algorithm="HS256", headers={"kid": oldest.key_id})
    keyring.CHECK_SECONDS = 3600  # no generation check inside the timed blocks
    rings = {"one": [oldest], "three": three}
    blocks: dict[str, list[float]] = {"one": [], "three": []}
    for _ in range(30):
        for size, ring in rings.items():
            keyring._ring.live["jwt"] = ring
            started = time.perf_counter()
            for _ in range(rounds):
                AccessToken(token)
            blocks[size].append((time.perf_counter() - started) / rounds * 1e6)
    keyring._ring.live["jwt"] = three
    one, many = statistics.median(blocks["one"]), statistics.median(blocks["three"])
    return {"one_key_us": one, "three_keys_us": many, "slower_percent": (many / one - 1) * 100}


def bench_reload(rounds: int) -> dict:
    """A reload as a process makes it when the generation moved (the versions it holds already
    decrypted), and a cold one (every version decrypted: a process's first load)."""
    from samia.secrets import keyring

    warm, cold = [], []
    for _ in range(rounds):
        for samples in (warm, cold):
            if samples is cold:
                keyring._opened.clear()
            started = time.perf_counter()
            keyring.reload(keyring.generation())
            samples.append((time.perf_counter() - started) * 1000)
    return {
        "versions": sum(len(versions) for versions in keyring._ring.live.values()),
        "p50_ms": round(statistics.median(warm), 2),
        "p99_ms": round(percentile(warm, 0.99), 2),
        "max_ms": round(max(warm), 2),
        "cold_p50_ms": round(statistics.median(cold), 2),
        "cold_max_ms": round(max(cold), 2),
    }


ROTATE = (
    "import django, time; django.setup(); from samia.secrets import services as s; "
    "s.secret_rotate(name='{}', actor='system:drill'); print(time.time())"
)


def drill() -> list[dict]:
    from rest_framework_simplejwt.tokens import AccessToken

    from notifications import links
    from samia import secrets, storage
    from samia.audit import minisign
    from samia.secrets import services as secret_services
    from samia.secrets import store

    makers = {
        "jwt": (lambda: str(AccessToken()), lambda token: AccessToken(token)),
        "tracking_links": (lambda: links.sign(1, "open"), lambda token: links.verify(token, "open")),
        "storage_urls": (
            lambda: storage.signed_url(key="a/b", ttl_seconds=600, user_id=1).url.rsplit("/", 1)[-1],
            storage.signed_url_verify,
        ),
        "audit_signing": (
            lambda: minisign.sign(b"x", minisign.configured_key(), trusted_comment="drill"),
            lambda signature: minisign.verify(
                b"x", signature, minisign.public_key_text(minisign.published_keys()[signature.split()[7]])
            ),
        ),
    }
    figures = []
    for name, (make, check) in makers.items():
        with store.owner_transaction() as cursor:
            cursor.execute("UPDATE secrets_secretversion SET activated_at = activated_at - interval '2 minutes'")
        try:
            before = secrets.current(name).key_id
        except secrets.SecretMissing:  # no environment value (AUDIT_SIGNING_KEY unset here): a first version
            secret_services.secret_rotate(name=name, actor="system:drill")
            with store.owner_transaction() as cursor:
                cursor.execute("UPDATE secrets_secretversion SET activated_at = activated_at - interval '2 minutes'")
            before = secrets.current(name).key_id
        # The key that signs `old` is one the keyring made (an environment key would keep verifying
        # while it is still listed in the environment).
        secret_services.secret_rotate(name=name, actor="system:drill")
        with store.owner_transaction() as cursor:
            cursor.execute("UPDATE secrets_secretversion SET activated_at = activated_at - interval '2 minutes'")
        before = secrets.current(name).key_id
        old = make()
        started = time.monotonic()
        committed = float(
            subprocess.run(
                [sys.executable, "-c", ROTATE.format(name)], cwd=ROOT, check=True, capture_output=True, text=True
            ).stdout.split()[-1]
        )
        rotated = time.monotonic() - started
        while secrets.current(name).key_id == before:
            time.sleep(0.05)
        seen = time.time() - committed
        check(old)  # in its grace
        with store.owner_transaction() as cursor:
            cursor.execute(
                "UPDATE secrets_secretversion SET retires_at = now() WHERE name = %s AND status = 'previous'", [name]
            )
        secret_services.secrets_retire_due()
        try:
            check(old)
            after = "still verifies"
        except Exception as error:  # what a caller sees: the old key is gone
            after = f"refused ({type(error).__name__})"
        figures.append(
            {
                "name": name,
                "rotate_command_s": round(rotated, 2),
                "seen_here_after_commit_s": round(seen, 2),
                "grace": "verifies",
                "after_retirement": after,
            }
        )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--reloads", type=int, default=200)
    parser.add_argument("--drill", action="store_true")
    arguments = parser.parse_args()
    _database()
    import django

    django.setup()
    from samia.redis import get_redis
    from samia.secrets import keyring, store

    with store.owner_transaction() as cursor:
        cursor.execute("DELETE FROM secrets_secretversion")
    for found in get_redis().scan_iter("samia-bench-ops:*"):
        get_redis().delete(found)
    keyring.reload(keyring.generation())
    print("load average", os.getloadavg())
    from samia.providers import breaker, toggles

    print("breaker + switch overhead per call:", bench_breaker(arguments.calls), "(goal p99 <= 1 ms)")
    breaker.LOCAL_SECONDS = toggles.LOCAL_SECONDS = 0  # every call asks Redis (switch, state, reset)
    print("  ... asking Redis on every call:", bench_breaker(arguments.calls))
    breaker.LOCAL_SECONDS = toggles.LOCAL_SECONDS = 1.0
    print("JWT verification:", bench_jwt(200), "(goal <= 5% slower)")
    print("keyring reload:", bench_reload(arguments.reloads), "(goal <= 50 ms)")
    if arguments.drill:
        for row in drill():
            print("drill", row)


if __name__ == "__main__":
    main()
