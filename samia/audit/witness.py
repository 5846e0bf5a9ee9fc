"""The witness: a write-once store outside the database that keeps a copy of every signed checkpoint.

A database superuser can switch triggers off and rewrite both the chain and the checkpoint table; they
cannot reach this store. `file:///dir` (the default) creates each record exclusively and makes it
read-only; `s3://bucket/prefix` puts each record once (`If-None-Match: *`) with S3 Object Lock in
COMPLIANCE mode, and reads the oldest version of a key, so a later version put over it changes nothing.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path
from urllib.parse import unquote, urlparse

from django.conf import settings

_NAME = re.compile(r"^checkpoint-(\d{12})\.json$")


class WitnessError(Exception):
    """The witness could not be written or read."""


class AlreadyWritten(WitnessError):
    """A record of that name exists already; the witness never overwrites one."""


def record_name(serial: int) -> str:
    return f"checkpoint-{serial:012d}.json"


def serial_of(name: str) -> int | None:
    match = _NAME.match(name)
    return int(match[1]) if match else None


class FileWitness:
    """Records in a directory: created exclusively (O_EXCL), then read-only."""

    def __init__(self, directory: Path):
        self.directory = directory

    def __str__(self):
        return self.directory.as_uri()

    def put(self, name: str, data: bytes) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(self.directory / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
        except FileExistsError:
            raise AlreadyWritten(name) from None
        except OSError as error:
            raise WitnessError(f"{name}: {error.strerror}") from None
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())

    def get(self, name: str) -> bytes | None:
        try:
            return (self.directory / name).read_bytes()
        except FileNotFoundError:
            return None

    def names(self) -> list[str]:
        if not self.directory.is_dir():
            return []
        return sorted(path.name for path in self.directory.iterdir() if _NAME.match(path.name))


class S3Witness:
    """Records in an S3 bucket with Object Lock, through django-storages' configured boto3 client,
    signed with the keyring's current S3 access key (samia/storage/s3.py)."""

    def __init__(self, bucket: str, prefix: str):
        from samia.storage.s3 import KeyringS3Storage

        self.bucket, self.prefix = bucket, prefix.strip("/")
        self.storage = KeyringS3Storage(bucket_name=bucket)

    @property
    def client(self):
        """The client of the current access key (rebuilt after a rotation)."""
        return self.storage.connection.meta.client

    def __str__(self):
        return f"s3://{self.bucket}/{self.prefix}"

    def _key(self, name: str) -> str:
        return f"{self.prefix}/{name}" if self.prefix else name

    def put(self, name: str, data: bytes) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        until = dt.datetime.now(dt.UTC) + dt.timedelta(days=settings.AUDIT_WITNESS_RETENTION_DAYS)
        try:
            self.client.put_object(
                Bucket=self.bucket,
                Key=self._key(name),
                Body=data,
                ContentType="application/json",
                IfNoneMatch="*",
                ObjectLockMode="COMPLIANCE",
                ObjectLockRetainUntilDate=until,
            )
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code in ("PreconditionFailed", "ConditionalRequestConflict"):
                raise AlreadyWritten(name) from None
            raise WitnessError(f"{name}: {code or 'S3 error'}") from None
        except BotoCoreError as error:
            raise WitnessError(f"{name}: {type(error).__name__}") from None

    def get(self, name: str) -> bytes | None:
        from botocore.exceptions import BotoCoreError, ClientError

        key = self._key(name)
        try:
            listing = self.client.list_object_versions(Bucket=self.bucket, Prefix=key)
            versions = [v for v in listing.get("Versions", []) if v["Key"] == key]
            if not versions:
                return None
            # S3 lists a key's versions newest first: the last one is what was written first.
            body = self.client.get_object(Bucket=self.bucket, Key=key, VersionId=versions[-1]["VersionId"])["Body"]
            return body.read()
        except (BotoCoreError, ClientError) as error:
            raise WitnessError(f"{name}: {type(error).__name__}") from None

    def names(self) -> list[str]:
        from botocore.exceptions import BotoCoreError, ClientError

        found = set()
        start = f"{self.prefix}/" if self.prefix else ""
        try:
            for page in self.client.get_paginator("list_object_versions").paginate(Bucket=self.bucket, Prefix=start):
                for version in page.get("Versions", []):
                    name = version["Key"][len(start) :]
                    if _NAME.match(name):
                        found.add(name)
        except (BotoCoreError, ClientError) as error:
            raise WitnessError(f"listing: {type(error).__name__}") from None
        return sorted(found)


def from_url(url: str) -> FileWitness | S3Witness:
    """Return the witness a URL names: file:///dir or s3://bucket/prefix."""
    parsed = urlparse(url)
    if parsed.scheme == "file" and parsed.path:
        return FileWitness(Path(unquote(parsed.path)))
    if parsed.scheme == "s3" and parsed.netloc:
        return S3Witness(parsed.netloc, parsed.path)
    raise ValueError("AUDIT_WITNESS is file:///directory or s3://bucket/prefix")


def configured() -> FileWitness | S3Witness:
    """Return the witness AUDIT_WITNESS names."""
    return from_url(settings.AUDIT_WITNESS)
