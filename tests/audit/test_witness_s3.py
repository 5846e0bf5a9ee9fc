"""The S3 witness: real boto3 (through django-storages) over real HTTP against moto's server, in a bucket
with Object Lock. Each checkpoint is put once, locked in COMPLIANCE mode; a second put of the same key is
refused, and a version someone forces over it changes nothing the witness reads."""

import datetime as dt
import uuid

import boto3
import pytest
from botocore.exceptions import ClientError
from django.core.management import CommandError, call_command
from django.db import connection

from samia.audit import tasks, witness
from tests.audit.conftest import write
from tests.fakes.moto_s3 import CREDENTIALS, moto_endpoint

pytestmark = pytest.mark.django_db
BUCKET = "samia-audit-witness"


@pytest.fixture(scope="module")
def s3_endpoint():
    with moto_endpoint() as endpoint:
        bucket_client = boto3.client("s3", endpoint_url=endpoint, **CREDENTIALS)
        bucket_client.create_bucket(Bucket=BUCKET, ObjectLockEnabledForBucket=True)
        yield endpoint


@pytest.fixture
def s3(s3_endpoint, settings):
    """AUDIT_WITNESS in a fresh prefix of the locked bucket; returns a plain boto3 client to look with."""
    settings.AWS_S3_ENDPOINT_URL = s3_endpoint
    settings.AWS_ACCESS_KEY_ID = CREDENTIALS["aws_access_key_id"]
    settings.AWS_SECRET_ACCESS_KEY = CREDENTIALS["aws_secret_access_key"]
    settings.AWS_S3_REGION_NAME = CREDENTIALS["region_name"]
    settings.AUDIT_WITNESS = f"s3://{BUCKET}/{uuid.uuid4().hex}"
    settings.AUDIT_CHECKPOINT_MINUTES = 0
    return boto3.client("s3", endpoint_url=s3_endpoint, **CREDENTIALS)


def _key(settings, serial):
    return f"{settings.AUDIT_WITNESS.split('/', 3)[3]}/{witness.record_name(serial)}"


def test_the_job_puts_each_checkpoint_locked_in_compliance_mode(s3, settings):
    write(2)

    assert tasks.checkpoint_head() == {"signed": 1, "witnessed": 1}

    head = s3.head_object(Bucket=BUCKET, Key=_key(settings, 1))
    assert head["ObjectLockMode"] == "COMPLIANCE"
    retained = head["ObjectLockRetainUntilDate"] - dt.datetime.now(dt.UTC)
    assert dt.timedelta(days=3649) < retained <= dt.timedelta(days=3650)
    call_command("audit_verify", witness="")


def test_a_second_put_of_the_same_key_is_refused_and_the_first_is_kept(s3, settings):
    store = witness.configured()
    store.put("checkpoint-000000000001.json", b"first")

    with pytest.raises(witness.AlreadyWritten):
        store.put("checkpoint-000000000001.json", b"second")

    # someone with the bucket's credentials forces a new version over it, then tries to delete the locked one
    key = _key(settings, 1)
    s3.put_object(Bucket=BUCKET, Key=key, Body=b"forged")
    original = s3.list_object_versions(Bucket=BUCKET, Prefix=key)["Versions"][-1]["VersionId"]
    with pytest.raises(ClientError, match="AccessDenied"):
        s3.delete_object(Bucket=BUCKET, Key=key, VersionId=original)
    assert store.get("checkpoint-000000000001.json") == b"first"
    assert store.names() == ["checkpoint-000000000001.json"]


def test_audit_verify_names_a_checkpoint_deleted_from_the_database_against_s3(s3, capsys):
    write(2)
    tasks.checkpoint_head()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("DELETE FROM audit_auditcheckpoint")

    with pytest.raises(CommandError):
        call_command("audit_verify", witness="")

    assert "witness: first bad checkpoint 1: missing (the witness holds it, the database does not" in (
        capsys.readouterr().out
    )


def test_an_unreachable_bucket_leaves_the_checkpoint_unwitnessed(s3, settings):
    from samia.audit.checkpoints import WitnessUnavailable
    from samia.audit.models import AuditCheckpoint

    settings.AUDIT_WITNESS = "s3://no-such-bucket/x"
    write(1)

    with pytest.raises(WitnessUnavailable):
        tasks.checkpoint_head()

    assert AuditCheckpoint.objects.get().witnessed_at is None
