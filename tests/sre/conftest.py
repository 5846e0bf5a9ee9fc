import shutil
import socket
import subprocess
import time

import pytest
from django.conf import settings

from samia.redis import get_redis


@pytest.fixture(autouse=True)
def _clean_limiter_keys():
    """Every test starts with no counters and no quotas taken."""
    client = get_redis()
    for key in client.scan_iter(f"{settings.CACHES['default']['KEY_PREFIX']}:sre:*"):
        client.delete(key)
    yield


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def own_redis():
    """A second redis-server on a free port that the test may stop (never the shared one)."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    port = _free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            break
        except OSError:
            time.sleep(0.05)

    class Server:
        url = f"redis://127.0.0.1:{port}/0"

        def stop(self):
            process.terminate()
            process.wait(timeout=10)

    yield Server()
    if process.poll() is None:
        process.terminate()
        process.wait(timeout=10)
