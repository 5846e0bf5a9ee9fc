"""S3 with the keyring's access key: the private bucket (`STORAGES["private"]`) and the S3 audit witness.

`s3_access_key` (JSON {"key_id", "secret"}) is set with `manage.py secrets_set s3_access_key --key-id ID`
and becomes active only when `probe` passes with it. While the keyring holds no version of its own (only
version 1 from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or nothing), django-storages signs as it always
did: with those settings, or with boto3's chain (an instance or task role) when they are empty.

django-storages keeps one boto3 resource per thread for the life of the storage; `KeyringS3Storage`
rebuilds it when the fingerprint of the current pair changes, so a rotation reaches every process
within the keyring's reload delay without a restart.
"""

from __future__ import annotations

import functools
import hashlib
import json
from urllib.parse import urlparse

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from storages.backends.s3 import S3Storage

from samia import secrets

NAME = "s3_access_key"


@functools.lru_cache(maxsize=4)
def _pair(value: str) -> tuple[str, str]:
    parsed = json.loads(value)
    return parsed["key_id"], parsed["secret"]


def access_key() -> tuple[str, str] | None:
    """(key id, secret) the keyring set for S3, or None: the settings or boto3's chain sign."""
    value = secrets.credential(NAME)
    return _pair(value) if value else None


def _fingerprint(pair: tuple[str, str] | None) -> str:
    return hashlib.sha256("\0".join(pair).encode()).hexdigest() if pair else ""


class KeyringS3Storage(S3Storage):
    """django-storages' S3Storage signing with the keyring's current S3 access key."""

    @property
    def connection(self):
        pair = access_key()
        mark = _fingerprint(pair)
        if getattr(self._connections, "fingerprint", None) != mark:
            self._connections.connection = None  # the next line builds one with `pair`
            self._connections.pair, self._connections.fingerprint = pair, mark
        return super().connection

    @property
    def bucket(self):
        # Not cached on the storage: a cached Bucket keeps the client of the pair it was made with.
        return self.connection.Bucket(self.bucket_name)

    def _create_session(self):
        pair = getattr(self._connections, "pair", None)
        if pair is None:
            return super()._create_session()
        return boto3.Session(aws_access_key_id=pair[0], aws_secret_access_key=pair[1])


def buckets() -> list[str]:
    """The S3 buckets the app writes to: the private storage's and the witness's, when they are S3."""
    found = [settings.STORAGE_S3_BUCKET] if settings.STORAGE_BACKEND == "s3" else []
    witness = urlparse(settings.AUDIT_WITNESS)
    if witness.scheme == "s3" and witness.netloc and witness.netloc not in found:
        found.append(witness.netloc)
    return found


def probe(value: bytes) -> str | None:
    """`head_bucket` on each bucket in use, signed with the NEW pair `value`; a failure code, or None.

    S3 answers a refused key (unknown, inactive, wrong secret, no permission) with a bare 403: `s3_403`.
    """
    try:
        key_id, secret = _pair(value.decode())
    except (ValueError, KeyError, TypeError):
        return "s3_invalid_access_key"
    if not key_id or not secret:
        return "s3_invalid_access_key"
    if not buckets():
        return "s3_not_configured"
    storage = KeyringS3Storage(bucket_name=buckets()[0])  # the endpoint, region and client options in use
    timeout = settings.PROVIDER_TIMEOUT_SECONDS
    client = boto3.Session(aws_access_key_id=key_id, aws_secret_access_key=secret).client(
        "s3",
        region_name=storage.region_name,
        use_ssl=storage.use_ssl,
        endpoint_url=storage.endpoint_url,
        verify=storage.verify,
        config=storage.client_config.merge(
            Config(connect_timeout=timeout, read_timeout=timeout, retries={"total_max_attempts": 1})
        ),
    )
    for bucket in buckets():
        try:
            client.head_bucket(Bucket=bucket)
        except ClientError as error:
            return f"s3_{error.response.get('Error', {}).get('Code') or 'refused'}"[:64]
        except BotoCoreError as error:
            return f"s3_{type(error).__name__}"[:64]
    return None
