"""Signed URLs (samia/storage): local tokens that refuse every alteration, expire and rotate by key id; S3
presigned GETs through real boto3 (django-storages) against moto's server on loopback."""

import base64
import datetime as dt
import json
import urllib.error
import urllib.request
import uuid
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from samia import storage
from tests.ar import media
from tests.ar.conftest import upload
from tests.conftest import api_as
from tests.fakes.moto_s3 import CREDENTIALS, moto_endpoint

pytestmark = pytest.mark.django_db
BUCKET = "samia-ar-private"


@pytest.fixture
def stored(personas):
    """A GIF in local private storage, and a token to it issued to the reader."""
    content = media.gif()
    key = storage.private_storage().save(f"ar/{uuid.uuid4().hex}", ContentFile(content))
    signed = storage.signed_url(key=key, user_id=personas["reader"].pk, content_type="image/gif")
    return content, key, signed.url.rsplit("/files/", 1)[1]


def _get(token, user=None):
    return api_as(user).get(f"/files/{token}")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_it_streams_the_file_to_whoever_holds_a_valid_token(stored, personas):
    content, _, token = stored

    for user in (None, personas["reader"]):
        response = _get(token, user)
        assert (response.status_code, response["Content-Type"]) == (200, "image/gif")
        assert response.streaming and b"".join(response.streaming_content) == content


def test_it_serves_a_stored_file_sandboxed_and_never_sniffed(personas):
    # given an HTML file behind a signed link (marketplace media may later use the same route)
    key = storage.private_storage().save(f"ar/{uuid.uuid4().hex}", ContentFile(b"<script>alert(1)</script>"))
    token = storage.signed_url(key=key, user_id=None, content_type="text/html").url.rsplit("/files/", 1)[1]

    # when it is downloaded
    response = _get(token)

    # then no browser runs it as a page of this origin
    assert response.status_code == 200
    assert response["Content-Security-Policy"].startswith("sandbox;")
    assert "default-src 'none'" in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"


def _altered(token: str, part: int) -> str:
    parts = token.split(".")
    if part == 1:  # the payload: someone else's file, for longer
        data = json.loads(base64.urlsafe_b64decode(parts[1] + "=="))
        data["e"] += 3600
        parts[1] = _b64(json.dumps(data, separators=(",", ":")).encode())
    else:
        parts[part] = parts[part][:-2] + ("AA" if not parts[part].endswith("AA") else "BB")
    return ".".join(parts)


@pytest.mark.parametrize(("part", "reason"), [(0, "unknown_key"), (1, "bad_signature"), (2, "bad_signature")])
def test_it_refuses_a_token_with_any_part_altered(stored, part, reason):
    _, _, token = stored

    response = _get(_altered(token, part))

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    assert response.json()["error"]["details"] == {"reason": reason}


@pytest.mark.parametrize("token", ["", "a.b", "a.b.c.d", "k0..", "k0.%%%.x", "k0.bm90IGpzb24.sig"])
def test_it_refuses_malformed_tokens(token):
    response = _get(token) if token else api_as().get("/files/")

    assert response.status_code in (403, 404)
    if token:
        assert response.status_code == 403


def test_it_refuses_an_expired_token(stored, personas):
    _, key, _ = stored
    signed = storage.signed_url(key=key, ttl_seconds=1, user_id=personas["reader"].pk)
    token = signed.url.rsplit("/files/", 1)[1]

    later = signed.expires_at + dt.timedelta(seconds=1)
    with pytest.raises(storage.SignatureInvalid, match="expired"):
        storage.signed_url_verify(token, now=later)
    assert storage.signed_url_verify(token, now=signed.expires_at - dt.timedelta(seconds=1)).key == key


def test_an_expired_token_gets_403_at_the_route(stored, personas, settings):
    _, key, _ = stored
    # A token whose expiry has passed, signed with the real key (as if issued 10 minutes ago).
    kid = settings.STORAGE_URL_KEY_ID
    payload = _b64(
        json.dumps({"k": key, "u": personas["reader"].pk, "e": int(timezone.now().timestamp()) - 300}).encode()
    )
    token = f"{kid}.{payload}.{storage._mac(kid, payload)}"

    response = _get(token)

    assert (response.status_code, response.json()["error"]["details"]) == (403, {"reason": "expired"})


def test_keys_rotate_by_key_id_and_a_retired_key_ends_its_tokens(stored, personas, settings):
    _, key, _ = stored
    settings.STORAGE_URL_KEYS, settings.STORAGE_URL_KEY_ID = {"k1": "old-url-secret"}, "k1"
    old = storage.signed_url(key=key, user_id=None).url.rsplit("/files/", 1)[1]

    settings.STORAGE_URL_KEYS, settings.STORAGE_URL_KEY_ID = {"k1": "old-url-secret", "k2": "new-url-secret"}, "k2"
    new = storage.signed_url(key=key, user_id=None).url.rsplit("/files/", 1)[1]
    assert (old.split(".")[0], new.split(".")[0]) == ("k1", "k2")
    assert _get(old).status_code == _get(new).status_code == 200

    settings.STORAGE_URL_KEYS = {"k2": "new-url-secret"}
    assert (_get(old).status_code, _get(old).json()["error"]["details"]) == (403, {"reason": "unknown_key"})
    assert _get(new).status_code == 200


def test_it_refuses_a_token_issued_to_another_user(stored, personas):
    _, _, token = stored

    response = _get(token, personas["other_reader"])

    assert (response.status_code, response.json()["error"]["details"]) == (403, {"reason": "other_user"})


@pytest.mark.parametrize(("ttl", "lives"), [(None, 300), (1, 1), (900, 900)])
def test_it_lives_300_seconds_by_default_and_900_at_most(ttl, lives):
    before = timezone.now().replace(microsecond=0)

    signed = storage.signed_url(key="ar/x", ttl_seconds=ttl, user_id=1)

    assert dt.timedelta(seconds=lives) <= signed.expires_at - before <= dt.timedelta(seconds=lives + 1)
    for wrong in (0, 901, -5):
        with pytest.raises(ValueError):
            storage.signed_url(key="ar/x", ttl_seconds=wrong, user_id=1)


# --- S3: real boto3 against moto's server ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def s3_endpoint():
    with moto_endpoint() as endpoint:
        boto3.client("s3", endpoint_url=endpoint, **CREDENTIALS).create_bucket(Bucket=BUCKET)
        yield endpoint


@pytest.fixture
def s3(s3_endpoint, settings):
    """The private storage on the moto bucket, through django-storages' S3Storage."""
    settings.AWS_S3_ENDPOINT_URL = s3_endpoint
    settings.AWS_ACCESS_KEY_ID = CREDENTIALS["aws_access_key_id"]
    settings.AWS_SECRET_ACCESS_KEY = CREDENTIALS["aws_secret_access_key"]
    settings.AWS_S3_REGION_NAME = CREDENTIALS["region_name"]
    settings.STORAGES = {
        **settings.STORAGES,
        "private": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "default_acl": None,
                "file_overwrite": False,
                "signature_version": "s3v4",
            },
        },
    }
    return boto3.client("s3", endpoint_url=s3_endpoint, **CREDENTIALS)


def _fetch(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as error:
        return error.code, None, b""


def test_s3_an_upload_lands_in_the_bucket_and_its_presigned_get_works_then_expires(
    s3, personas, django_capture_on_commit_callbacks
):
    from ar import services
    from samia.rls.registry import Identity

    # given an MP4 uploaded through the API: it is stored in the private bucket
    content = media.video("mp4", "libx264", frames=12)
    created = upload(personas["admin"], content, "effect").json()
    key = services.ArAsset.objects.get(pk=created["id"]).storage_key
    assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == content

    # when an admin asks for its URL
    issued_at = timezone.now().replace(microsecond=0)
    body = api_as(personas["admin"]).get(f"/ar/assets/{created['id']}/url").json()

    # then it is a presigned GET of that object, signed for 300 s, that S3 (moto) answers with the bytes
    parts = urlsplit(body["url"])
    query = parse_qs(parts.query)
    assert parts.path == f"/{BUCKET}/{key}"
    assert query["X-Amz-Expires"] == ["300"] and query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    signed_at = dt.datetime.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
    assert abs((signed_at - issued_at).total_seconds()) <= 1
    expires_at = dt.datetime.fromisoformat(body["expires_at"].replace("Z", "+00:00"))
    # 300 s after it was issued (the clock may pass a second boundary while the request runs)
    assert 300 <= (expires_at - issued_at).total_seconds() <= 301
    assert _fetch(body["url"]) == (200, "video/mp4", content)

    # and once removed, the object is gone from the bucket, so the URL leads nowhere
    with django_capture_on_commit_callbacks(execute=True):
        services.asset_remove(identity=Identity(personas["admin"].pk, "admin"), asset_id=created["id"])
    assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET, Prefix=key)
    assert _fetch(body["url"])[0] in (403, 404)  # S3 answers 403 for a missing key to callers who may not list


def test_s3_the_expiry_is_part_of_what_is_signed(s3):
    # moto does not enforce X-Amz-Expires (S3 does): check that stretching it breaks the signature S3 checks
    storage.private_storage().save("ar/expiry-probe", ContentFile(b"probe"))
    url = storage.signed_url(key="ar/expiry-probe", ttl_seconds=60, user_id=None).url
    stretched = url.replace("X-Amz-Expires=60", "X-Amz-Expires=604800")
    credentials = boto3.session.Session(**CREDENTIALS).get_credentials()

    assert "X-Amz-Expires=60" in url and url.count("X-Amz-Signature=") == 1
    assert _signature(url, credentials) == parse_qs(urlsplit(url).query)["X-Amz-Signature"][0]
    assert _signature(stretched, credentials) != parse_qs(urlsplit(url).query)["X-Amz-Signature"][0]


def _signature(url: str, credentials) -> str:
    """Recompute the SigV4 query signature of `url` the way S3 does on receipt."""
    from botocore.auth import S3SigV4QueryAuth
    from botocore.awsrequest import AWSRequest

    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items() if k != "X-Amz-Signature"}
    auth = S3SigV4QueryAuth(credentials, "s3", CREDENTIALS["region_name"], expires=int(query["X-Amz-Expires"]))
    request = AWSRequest(
        method="GET", url=f"{parts.scheme}://{parts.netloc}{parts.path}", headers={"host": parts.netloc}
    )
    request.context["timestamp"] = query["X-Amz-Date"]
    request.params = query
    canonical = auth.canonical_request(request)
    return auth.signature(auth.string_to_sign(request, canonical), request)
