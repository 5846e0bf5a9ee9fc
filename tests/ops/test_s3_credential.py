"""The S3 access key through `manage.py secrets_set s3_access_key --key-id ID`: probed with `head_bucket`
signed with the NEW pair against moto's server with its IAM checks on (moto's `/moto-api/reset-auth`: from
then on every request must be signed by an access key its IAM knows, with a secret that matches and a
policy that allows it). A refused pair keeps version 1 and exits 1; an accepted one is what the private
storage's next upload and presigned URL and the witness's next put are signed with, in the same process,
with the storage already built."""

from __future__ import annotations

import io
import json
import logging
import sys
import uuid
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
import requests
from botocore.auth import S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.exceptions import ClientError
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.core.management import CommandError, call_command

from samia import secrets
from samia.audit import witness
from samia.audit.models import AuditEntry
from samia.secrets import catalog, keyring
from samia.storage import s3 as keyring_s3
from tests.fakes.moto_s3 import CREDENTIALS, moto_endpoint

pytestmark = pytest.mark.django_db

BUCKET = "samia-private-rotation"
REGION = CREDENTIALS["region_name"]
BOOTSTRAP = CREDENTIALS
POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


@pytest.fixture(scope="module")
def server():
    """moto on loopback: a bucket with Object Lock (the private files and the witness) and an IAM user."""
    with moto_endpoint() as endpoint:
        bucket_client = boto3.client("s3", endpoint_url=endpoint, **BOOTSTRAP)
        bucket_client.create_bucket(Bucket=BUCKET, ObjectLockEnabledForBucket=True)
        iam = boto3.client("iam", endpoint_url=endpoint, **BOOTSTRAP)
        iam.create_user(UserName="samia-storage")
        iam.put_user_policy(UserName="samia-storage", PolicyName="storage", PolicyDocument=json.dumps(POLICY))
        yield endpoint, iam


@pytest.fixture
def s3(server, settings):
    """The private storage and the witness on the bucket, signed with an IAM key (version 1) while moto
    checks every signature; yields (endpoint, old pair, a new pair IAM also knows)."""
    endpoint, iam = server
    old, new = (iam.create_access_key(UserName="samia-storage")["AccessKey"] for _ in range(2))
    settings.AWS_S3_ENDPOINT_URL = endpoint
    settings.AWS_S3_REGION_NAME = REGION
    settings.AWS_ACCESS_KEY_ID, settings.AWS_SECRET_ACCESS_KEY = old["AccessKeyId"], old["SecretAccessKey"]
    settings.STORAGE_BACKEND, settings.STORAGE_S3_BUCKET = "s3", BUCKET
    settings.AUDIT_WITNESS = f"s3://{BUCKET}/witness-{uuid.uuid4().hex}"
    settings.PROVIDER_TIMEOUT_SECONDS = 5.0
    settings.STORAGES = {
        **settings.STORAGES,
        "private": {
            "BACKEND": "samia.storage.s3.KeyringS3Storage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "default_acl": None,
                "file_overwrite": False,
                "signature_version": "s3v4",
            },
        },
    }
    keyring.reload(keyring.generation())  # imports version 1 from these settings
    _auth(endpoint, "0")  # IAM checks on from the next request
    try:
        yield endpoint, (old["AccessKeyId"], old["SecretAccessKey"]), (new["AccessKeyId"], new["SecretAccessKey"])
    finally:
        _auth(endpoint, "inf")
        for pair in iam.list_access_keys(UserName="samia-storage")["AccessKeyMetadata"]:
            iam.delete_access_key(UserName="samia-storage", AccessKeyId=pair["AccessKeyId"])


def _auth(endpoint: str, unchecked_requests: str) -> None:
    requests.post(f"{endpoint}/moto-api/reset-auth", data=unchecked_requests.encode(), timeout=5).raise_for_status()


def secrets_set(name: str, value: str, *options: str) -> str:
    out = io.StringIO()
    stdin = sys.stdin
    sys.stdin = io.TextIOWrapper(io.BytesIO(value.encode() + b"\n"))
    try:
        call_command("secrets_set", name, *options, stdout=out, stderr=out)
    finally:
        sys.stdin = stdin
    return out.getvalue()


def versions() -> list[tuple[int, str, bool]]:
    keyring.reload(keyring.generation())
    return [(key.version, key.status, key.from_environment) for key in secrets.verifying("s3_access_key")]


def audited() -> str:
    """The keyring's audit entries, as the text a reader of the trail sees."""
    return "\n".join(entry.payload for entry in AuditEntry.objects.filter(action__startswith="ops.secret."))


def details(action: str) -> list[dict]:
    return [json.loads(entry.payload)["details"] for entry in AuditEntry.objects.filter(action=action)]


def signer(url: str) -> str:
    """The access key id a presigned URL names (X-Amz-Credential: ID/date/region/s3/aws4_request)."""
    return parse_qs(urlsplit(url).query)["X-Amz-Credential"][0].split("/")[0]


def signed_by(url: str, pair: tuple[str, str]) -> bool:
    """Whether `url`'s SigV4 query signature is the one S3 computes with `pair` (moto's IAM checks do not
    read presigned URLs: it answers them 500 while the checks are on, so the test recomputes it)."""
    parts = urlsplit(url)
    query = {name: values[0] for name, values in parse_qs(parts.query).items()}
    signature = query.pop("X-Amz-Signature")
    credentials = boto3.session.Session(aws_access_key_id=pair[0], aws_secret_access_key=pair[1]).get_credentials()
    auth = S3SigV4QueryAuth(credentials, "s3", REGION, expires=int(query["X-Amz-Expires"]))
    request = AWSRequest(
        method="GET", url=f"{parts.scheme}://{parts.netloc}{parts.path}", headers={"host": parts.netloc}
    )
    request.context["timestamp"] = query["X-Amz-Date"]
    request.params = query
    return auth.signature(auth.string_to_sign(request, auth.canonical_request(request)), request) == signature


def test_version_1_is_the_pair_in_the_settings_and_signs_until_a_rotation(s3):
    _, (old_id, old_secret), _ = s3

    [version_1] = secrets.verifying("s3_access_key")

    assert json.loads(version_1.value) == {"key_id": old_id, "secret": old_secret}
    assert versions() == [(1, "active", True)]
    assert keyring_s3.access_key() is None  # the settings sign, as django-storages reads them
    assert catalog.kind("s3_access_key") == "credential"
    storages["private"].save("v1.txt", ContentFile(b"one"))
    assert signer(storages["private"].url("v1.txt")) == old_id


@pytest.mark.parametrize(
    "refused",
    [
        pytest.param(lambda new: ("AKIAUNKNOWN000000000", new[1]), id="a key id IAM does not know"),
        pytest.param(lambda new: (new[0], "not-" + new[1]), id="a wrong secret"),
    ],
)
def test_a_pair_s3_refuses_keeps_version_1_and_exits_1(s3, refused, caplog, capsys):
    _, old, new = s3
    old_id, (key_id, secret) = old[0], refused(new)

    with caplog.at_level(logging.DEBUG), pytest.raises(CommandError, match=r"probe failed \(s3_403\)") as failure:
        secrets_set("s3_access_key", secret, "--key-id", key_id)

    assert failure.value.returncode == 1  # manage.py exits with it
    assert versions() == [(1, "active", True)]
    assert secrets.credential("s3_access_key") is None
    storages["private"].save("still.txt", ContentFile(b"old key"))  # the old pair still serves
    assert storages["private"].open("still.txt").read() == b"old key"
    url = storages["private"].url("still.txt")
    assert signer(url) == old_id and signed_by(url, old)
    assert details("ops.secret.set") == [{"name": "s3_access_key", "code": "s3_403"}]
    seen = caplog.text + str(failure.value) + "".join(capsys.readouterr()) + audited()
    assert secret not in seen


def test_an_accepted_pair_signs_the_next_upload_presigned_url_and_witness_put(s3, caplog, capsys):
    _, (old_id, old_secret), (new_id, new_secret) = s3
    storage = storages["private"]
    storage.save("before.txt", ContentFile(b"before"))  # the storage holds a client of the old pair
    store = witness.configured()
    store.put("checkpoint-000000000001.json", b"first")

    with caplog.at_level(logging.DEBUG):
        output = secrets_set("s3_access_key", new_secret, "--key-id", new_id)

    assert "s3_access_key version 2 active" in output
    assert versions() == [(2, "active", False)]
    assert keyring_s3.access_key() == (new_id, new_secret)
    # the old key is deleted in IAM: anything still signed with it would now be refused
    as_new = boto3.Session(aws_access_key_id=new_id, aws_secret_access_key=new_secret, region_name=REGION)
    as_new.client("iam", endpoint_url=s3[0]).delete_access_key(UserName="samia-storage", AccessKeyId=old_id)
    as_old = boto3.Session(aws_access_key_id=old_id, aws_secret_access_key=old_secret, region_name=REGION)
    with pytest.raises(ClientError, match=r"\(403\)"):
        as_old.client("s3", endpoint_url=s3[0]).head_bucket(Bucket=BUCKET)
    name = storage.save("after.txt", ContentFile(b"after"))
    url = storage.url(name)
    assert signer(url) == new_id
    assert signed_by(url, (new_id, new_secret)) and not signed_by(url, (new_id, old_secret))
    assert storage.open(name).read() == b"after"
    assert storage.open("before.txt").read() == b"before"
    store.put("checkpoint-000000000002.json", b"second")
    assert store.get("checkpoint-000000000002.json") == b"second"
    assert [entry["name"] for entry in details("ops.secret.rotate")] == ["s3_access_key"]
    seen = caplog.text + output + "".join(capsys.readouterr()) + audited()
    assert new_secret not in seen and old_secret not in seen


def test_the_secret_needs_its_key_id_and_an_s3_bucket(s3, settings):
    _, _, (new_id, new_secret) = s3
    with pytest.raises(CommandError, match="--key-id goes with apns_key and s3_access_key"):
        secrets_set("s3_access_key", new_secret)

    settings.STORAGE_BACKEND, settings.AUDIT_WITNESS = "local", "file:///tmp/samia-witness"
    with pytest.raises(CommandError, match=r"probe failed \(s3_not_configured\)"):
        secrets_set("s3_access_key", new_secret, "--key-id", new_id)
    assert versions() == [(1, "active", True)]
