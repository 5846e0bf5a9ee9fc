"""Another process for the ops tests: `python -m tests.ops.worker <command> ...` (see tests/ops/conftest.py).

fail NAME COUNT        record COUNT retryable results on NAME's circuit; print its state
state NAME             print NAME's circuit state
succeed NAME           one successful call through NAME's circuit (after its reset time); print the state
watch CHANNEL SECONDS  print how long until sends on CHANNEL are blocked (or "never")
"""

import sys
import time

import django

django.setup()

from django.test import override_settings  # noqa: E402

from samia.providers import gates, registry  # noqa: E402
from samia.providers.base import Outcome, ProviderUnavailable, Result  # noqa: E402


def main(command: str, *arguments: str) -> None:
    with override_settings(PROVIDER_BREAKER_FAIL_MAX=5, PROVIDER_BREAKER_RESET_SECONDS=1):
        if command == "fail":
            name, count = arguments[0], int(arguments[1])
            for _ in range(count):
                try:
                    registry.breaker(name).call(lambda: Result(Outcome.RETRYABLE, code="http_503"))
                except ProviderUnavailable:
                    break
            print(registry.breaker(name).state)
        elif command == "state":
            print(registry.breaker(arguments[0]).state)
        elif command == "succeed":
            registry.breaker(arguments[0]).call(lambda: Result(Outcome.SENT, message_id="ok"))
            print(registry.breaker(arguments[0]).state)
        elif command == "watch":
            channel, limit = arguments[0], float(arguments[1])
            print("ready", flush=True)
            started = time.monotonic()
            while time.monotonic() - started < limit:
                reason = gates.send_blocked(channel=channel, marketing=False)
                if reason:
                    print(f"{reason} {time.monotonic() - started:.3f}", flush=True)
                    return
                time.sleep(0.05)
            print("never", flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
