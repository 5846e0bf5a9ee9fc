"""A local FCM HTTP v1 server for tests and benchmarks: the real pyfcm and google-auth talk to it over HTTP.

It serves the OAuth2 token endpoint (`POST /token`, the JWT-bearer grant) and
`POST /v1/projects/<project>/messages:send`, answering like FCM: a message name on success,
the v1 error JSON (google.rpc status, FcmError code, BadRequest field violations) and
Retry-After on failure. Each device token's answer is scripted by the test (`script`) or
chosen by its prefix:

    unregistered-  404 UNREGISTERED            mismatch-  403 SENDER_ID_MISMATCH
    badtoken-      400 INVALID_ARGUMENT on message.token
    quota-         429 QUOTA_EXCEEDED, Retry-After: 7
    slow-          answers after `slow_seconds` (longer than any client timeout in the tests)
    drop-          reads the request, then closes the connection without answering

`revoke(service_account)` makes the token endpoint refuse that service account's key (400
invalid_grant, as Google answers for a deleted key): the gate of `secrets_set fcm_service_account`.

Latency, injected 429/503 answers and a rate limit (429 QUOTA_EXCEEDED over it, counted) come
from `realism` (tests/fakes/realism.py); in a test it answers at once unless the test sets them.
`GET /__fake/stats` answers `realism.stats()`.

Standalone (a benchmark starts it in another process):
    python -m tests.fakes.fcm --port 8765 [--service-account PATH]
        [--latency-ms 80 --p99-ms 400 --error-share 0 --rate-limit 0]
prints its base URL; the token endpoint is `<base URL>/token`.
"""

from __future__ import annotations

import argparse
import base64
import itertools
import json
import re
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.fakes import realism as realism_module
from tests.fakes.realism import Realism

JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
FCM_SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
SEND_PATH = re.compile(r"^/v1/projects/(?P<project>[^/]+)/messages:send$")

# google.rpc status names by HTTP status, as FCM puts them in error.status.
RPC_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
}
# Codes FCM reports in its FcmError detail; anything else is a plain google.rpc status.
FCM_ERROR_CODES = {
    "UNSPECIFIED_ERROR",
    "INVALID_ARGUMENT",
    "UNREGISTERED",
    "SENDER_ID_MISMATCH",
    "QUOTA_EXCEEDED",
    "UNAVAILABLE",
    "INTERNAL",
    "THIRD_PARTY_AUTH_ERROR",
}
MESSAGES = {
    "UNREGISTERED": "Requested entity was not found.",
    "SENDER_ID_MISMATCH": "SenderId mismatch",
    "INVALID_ARGUMENT": "Request contains an invalid argument.",
    "QUOTA_EXCEEDED": "Quota exceeded for quota metric 'Send requests'.",
    "UNAVAILABLE": "The service is currently unavailable.",
    "INTERNAL": "Internal error encountered.",
    "THIRD_PARTY_AUTH_ERROR": "Auth error from APNS or Web Push Service",
    "PERMISSION_DENIED": "Permission 'cloudmessaging.messages.create' denied on resource.",
}
TOKEN_FIELD_MESSAGE = "The registration token is not a valid FCM registration token"


@dataclass
class Behaviour:
    """How the server answers one send: a status and error code, or a delay, or a dropped connection."""

    status: int = 200
    error_code: str = ""
    retry_after: int | str | None = None
    field: str = ""  # a BadRequest fieldViolation, e.g. "message.token"
    message: str = ""
    delay: float = 0.0
    drop: bool = False
    remaining: int | None = None  # None: every time


def service_account_json(token_uri: str, *, project_id: str = "samia-test") -> str:
    """Return a service account key file's text with a freshly generated RSA key and this token_uri."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    email = f"fcm-fake@{project_id}.iam.gserviceaccount.com"
    return json.dumps(
        {
            "type": "service_account",
            "project_id": project_id,
            "private_key_id": secrets.token_hex(20),
            "private_key": pem,
            "client_email": email,
            "client_id": "100000000000000000000",
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": token_uri,
            "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
            "client_x509_cert_url": f"https://www.googleapis.com/robot/v1/metadata/x509/{email}",
            "universe_domain": "googleapis.com",
        }
    )


class FakeFCM:
    """The server's state: scripted answers, recorded sends, issued access tokens. Thread-safe."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self.server = _Server((host, port), _Handler)
        self.server.fake = self
        self.base_url = f"http://{host}:{self.server.server_address[1]}"
        self.token_uri = f"{self.base_url}/token"
        self.slow_seconds = 3.0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self.reset()

    # -- what tests set up ------------------------------------------------------------

    def script(
        self,
        token: str,
        status: int = 404,
        error_code: str = "UNREGISTERED",
        retry_after: int | str | None = None,
        times: int | None = 1,
        *,
        field: str = "",
        message: str = "",
        delay: float = 0.0,
        drop: bool = False,
    ) -> None:
        """Answer the next `times` sends to `token` (None: all of them) this way; scripts queue up in order."""
        behaviour = Behaviour(status, error_code, retry_after, field, message, delay, drop, times)
        with self._lock:
            self._scripts.setdefault(token, []).append(behaviour)

    def script_token_endpoint(self, status: int = 400, error: str = "invalid_grant", times: int | None = 1) -> None:
        """Make the next `times` token requests fail with this OAuth2 error."""
        with self._lock:
            self._token_failures.append(Behaviour(status, error, remaining=times))

    def revoke(self, service_account: str) -> None:
        """Refuse token requests signed with this service account's key (a key deleted in the Google
        Cloud console): 400 invalid_grant "Invalid JWT Signature.", as Google answers."""
        key_id = json.loads(service_account)["private_key_id"]
        with self._lock:
            self._revoked.add(key_id)

    def expire_access_tokens(self) -> None:
        """Reject every access token issued so far as expired (401 ACCESS_TOKEN_EXPIRED)."""
        with self._lock:
            self._expired |= self._issued
            self._issued = set()

    def reset(self) -> None:
        """Forget scripts, recorded requests, issued tokens and counters."""
        with self._lock:
            self._scripts: dict[str, list[Behaviour]] = {}
            self._token_failures: list[Behaviour] = []
            self._requests: list[dict] = []
            self._paths: list[str] = []
            self._issued: set[str] = set()
            self._expired: set[str] = set()
            self._revoked: set[str] = set()  # private_key_id of service accounts whose key was deleted
            self._token_calls = 0
            self._names = itertools.count(1)
        self.realism = Realism()

    # -- what tests read ----------------------------------------------------------------

    @property
    def requests(self) -> list[dict]:
        """The JSON body of every send received (also those refused or answered with an error), in order."""
        with self._lock:
            return list(self._requests)

    @property
    def paths(self) -> list[str]:
        with self._lock:
            return list(self._paths)

    @property
    def token_calls(self) -> int:
        with self._lock:
            return self._token_calls

    def stop(self) -> None:
        self._stopping.set()
        self.server.shutdown()
        self.server.server_close()

    # -- what the handler calls ---------------------------------------------------------

    def _token(self, form: dict[str, list[str]]) -> tuple[int, dict]:
        with self._lock:
            self._token_calls += 1
            failure = self._take(self._token_failures)
            if failure:
                return failure.status, {"error": failure.error_code, "error_description": "Scripted failure."}
        assertion = form.get("assertion", [""])[0]
        with self._lock:
            revoked = _jwt_header(assertion).get("kid") in self._revoked
        if revoked:
            return 400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}
        claims = _jwt_claims(assertion)
        # google-auth signs for Google's token endpoint whatever token_uri says, so "aud" is not checked.
        if form.get("grant_type") != [JWT_BEARER_GRANT] or not claims.get("iss"):
            return 400, {"error": "invalid_grant", "error_description": "Invalid JWT assertion."}
        if FCM_SCOPE not in str(claims.get("scope", "")).split():
            return 400, {"error": "invalid_scope", "error_description": "Missing the firebase.messaging scope."}
        access_token = f"fake-access-{secrets.token_urlsafe(16)}"
        with self._lock:
            self._issued.add(access_token)
        return 200, {"access_token": access_token, "expires_in": 3600, "token_type": "Bearer"}

    def _authorize(self, header: str) -> tuple[int, dict] | None:
        """Return the 401 answer for a missing, unknown or expired bearer token, else None."""
        access_token = header.removeprefix("Bearer ")
        with self._lock:
            if header.startswith("Bearer ") and access_token in self._issued:
                return None
            expired = access_token in self._expired
        detail = [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "ACCESS_TOKEN_EXPIRED"}]
        return 401, {
            "error": {
                "code": 401,
                "message": "Request had invalid authentication credentials.",
                "status": "UNAUTHENTICATED",
                "details": detail if expired else [],
            }
        }

    def _behaviour(self, token: str) -> Behaviour:
        with self._lock:
            scripted = self._take(self._scripts.get(token, []))
        if scripted:
            return scripted
        for prefix, behaviour in DEFAULTS.items():
            if token.startswith(prefix):
                return behaviour
        return Behaviour()

    def _record(self, path: str, body: dict) -> None:
        with self._lock:
            self._paths.append(path)
            self._requests.append(body)

    def _message_name(self, project: str) -> str:
        with self._lock:
            return f"projects/{project}/messages/{next(self._names)}"

    @staticmethod
    def _take(queue: list[Behaviour]) -> Behaviour | None:
        """Pop one use of the first scripted behaviour (the caller holds the lock)."""
        if not queue:
            return None
        behaviour = queue[0]
        if behaviour.remaining is not None:
            behaviour.remaining -= 1
            if behaviour.remaining <= 0:
                queue.pop(0)
        return behaviour


DEFAULTS = {
    "unregistered-": Behaviour(404, "UNREGISTERED"),
    "mismatch-": Behaviour(403, "SENDER_ID_MISMATCH"),
    "badtoken-": Behaviour(400, "INVALID_ARGUMENT", field="message.token"),
    "quota-": Behaviour(429, "QUOTA_EXCEEDED", retry_after=7),
    "drop-": Behaviour(drop=True),
}


def error_body(status: int, error_code: str, *, field: str = "", message: str = "") -> dict:
    """FCM v1's error JSON for this status and code."""
    details = []
    if error_code in FCM_ERROR_CODES:
        details.append({"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": error_code})
    if field:
        description = TOKEN_FIELD_MESSAGE if field == "message.token" else f"Invalid value at '{field}'"
        details.append(
            {
                "@type": "type.googleapis.com/google.rpc.BadRequest",
                "fieldViolations": [{"field": field, "description": description}],
            }
        )
    if not message:
        message = TOKEN_FIELD_MESSAGE if field == "message.token" else MESSAGES.get(error_code, "Error.")
    rpc_status = error_code if error_code and error_code not in FCM_ERROR_CODES else RPC_STATUS.get(status, "UNKNOWN")
    return {"error": {"code": status, "message": message, "status": rpc_status, "details": details}}


def _jwt_header(assertion: str) -> dict:
    """The header of a JWT (google-auth names the service account's private_key_id as "kid")."""
    try:
        header = assertion.split(".")[0]
        found = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))
    except (IndexError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def _jwt_claims(assertion: str) -> dict:
    """The claims of a JWT, unverified: the fake checks the grant's shape and scope, not who signed it."""
    try:
        payload = assertion.split(".")[1]
        return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return {}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # a benchmark opens many connections at once
    fake: FakeFCM


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as clients expect from FCM
    disable_nagle_algorithm = True  # headers and body go out in separate writes
    server: _Server

    def do_POST(self):
        fake = self.server.fake
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path == "/token":
            status, answer = fake._token(parse_qs(body.decode()))
            return self._reply(status, answer)
        match = SEND_PATH.match(self.path)
        if not match:
            return self._reply(404, error_body(404, "NOT_FOUND", message="Not found."))
        try:
            request = json.loads(body)
            message = request["message"]
        except (ValueError, KeyError, TypeError):
            return self._reply(400, error_body(400, "INVALID_ARGUMENT", message="Invalid JSON payload received."))
        fake._record(self.path, request)
        unauthorized = fake._authorize(self.headers.get("Authorization", ""))
        if unauthorized:
            return self._reply(*unauthorized)
        if not fake.realism.admit():
            return self._reply(429, error_body(429, "QUOTA_EXCEEDED"), {"Retry-After": "1"})
        behaviour = fake._behaviour(str(message.get("token", "")))
        if behaviour.drop:
            self.close_connection = True
            return None
        delay = fake.slow_seconds if str(message.get("token", "")).startswith("slow-") else behaviour.delay
        delay = delay or fake.realism.delay()
        if delay and fake._stopping.wait(delay):
            return None
        injected = fake.realism.injected_error() if behaviour.status == 200 else None
        if injected == 429:
            headers = {"Retry-After": str(fake.realism.retry_after)}
            return self._reply(429, error_body(429, "QUOTA_EXCEEDED"), headers)
        if injected:
            return self._reply(503, error_body(503, "UNAVAILABLE"))
        bad_data = [i for i, value in enumerate((message.get("data") or {}).values()) if not isinstance(value, str)]
        if bad_data:
            field = f"message.data[{bad_data[0]}].value"
            return self._reply(400, error_body(400, "INVALID_ARGUMENT", field=field))
        if behaviour.status == 200:
            return self._reply(200, {"name": fake._message_name(match["project"])})
        headers = {"Retry-After": str(behaviour.retry_after)} if behaviour.retry_after is not None else {}
        answer = error_body(behaviour.status, behaviour.error_code, field=behaviour.field, message=behaviour.message)
        return self._reply(behaviour.status, answer, headers)

    def do_GET(self):
        if self.path == "/__fake/stats":
            return self._reply(200, self.server.fake.realism.stats())
        return self._reply(404, error_body(404, "NOT_FOUND", message="Not found."))

    def _reply(self, status: int, answer: dict, headers: dict | None = None) -> None:
        payload = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format, *args):  # quiet: tests and benchmarks read their own output
        pass


@contextmanager
def running(host: str = "127.0.0.1", port: int = 0) -> Iterator[FakeFCM]:
    """Serve a FakeFCM on a free port in a daemon thread for the duration of the block."""
    fake = FakeFCM(host, port)
    thread = threading.Thread(target=fake.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        fake.stop()
        thread.join(timeout=5)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run the fake FCM server in the foreground.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--service-account", metavar="PATH", help="write a service account JSON for this server")
    realism_module.add_arguments(parser)
    args = parser.parse_args(argv)
    fake = FakeFCM(args.host, args.port)
    fake.realism = realism_module.from_arguments(args)
    if args.service_account:
        Path(args.service_account).write_text(service_account_json(fake.token_uri))
    print(fake.base_url, flush=True)
    try:
        fake.server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        fake.server.server_close()


if __name__ == "__main__":
    main()
