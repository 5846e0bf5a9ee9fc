"""moto's S3 (and IAM) server on loopback, for the tests that talk to S3 through the real boto3."""

from collections.abc import Iterator
from contextlib import contextmanager

from moto.server import ThreadedMotoServer

# moto accepts any pair until IAM is switched on; these are the ones the tests start with.
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": "us-east-1"}


@contextmanager
def moto_endpoint() -> Iterator[str]:
    """Start a moto server on a free loopback port; yield its endpoint URL; stop it afterwards."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()
