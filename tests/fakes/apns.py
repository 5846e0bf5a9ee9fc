"""A local APNs for tests and benchmarks: HTTP/2 over TLS (ALPN "h2"), spoken to by the real aioapns.

It serves `POST /3/device/<token>` the way Apple does: it checks the provider JWT (ES256,
signed by the key the test generated with `make_key()`), the apns-* headers and the payload
size, echoes the request's apns-id, and answers 200 or an error status with the
`{"reason": ..., "timestamp": ...}` body. Each device token's answer is scripted by the test
(`script`) or chosen by its prefix:

    unregistered-  410 Unregistered (timestamp: now)   bad-    400 BadDeviceToken
    topic-         400 DeviceTokenNotForTopic           big-    413 PayloadTooLarge
    busy-          503 ServiceUnavailable               slow-   never answers (the stream stays open)
    000...0        400 BadDeviceToken (all zeros: no device has it; a credential probe pushes to it)
`trust(key_id, public_key)` accepts JWTs naming that key id and signed by that key (an account's keys).

Latency, injected 429/503 answers and a rate limit (429 TooManyRequests over it, counted) come
from `realism` (tests/fakes/realism.py); in a test it answers at once unless the test sets them.

The TLS CA and server certificate (apns_keys.py) are generated at start into a temporary directory, never stored.

Standalone (a benchmark starts it in another process):
    python -m tests.fakes.apns --port 8443 --ca-out /tmp/apns-ca.pem [--public-key key.pem]
        [--latency-ms 80 --p99-ms 400 --error-share 0 --rate-limit 0]
Without --public-key it accepts any well-formed ES256 JWT. On SIGTERM it prints its counts, and
`realism.stats()` as JSON on the last line.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import re
import shutil
import signal
import ssl
import tempfile
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from h2.config import H2Configuration
from h2.connection import H2Connection
from h2.events import ConnectionTerminated, DataReceived, RequestReceived, StreamEnded, StreamReset
from h2.exceptions import H2Error
from h2.settings import SettingCodes

from tests.fakes import realism as realism_module
from tests.fakes.apns_keys import make_key, write_tls_files
from tests.fakes.realism import Realism

__all__ = ["FakeAPNs", "Reply", "make_key", "running"]

DEVICE_PATH = re.compile(r"^/3/device/(?P<token>[^/?]+)$")
MAX_PAYLOAD_BYTES = 4096  # Apple's limit for an alert
MAX_CONCURRENT_STREAMS = 1000  # what APNs advertises once the provider token is accepted
CONNECTION_WINDOW_BYTES = 16 * 1024 * 1024
JWT_MAX_AGE_SECONDS = 3600  # Apple refuses provider tokens older than an hour
PUSH_TYPES = {"alert", "background", "voip", "complication", "fileprovider", "mdm", "liveactivity", "location"}


@dataclass
class Reply:
    """How the server answers one push: a status and reason, after an optional delay (None: at once)."""

    status: int = 200
    reason: str = ""
    timestamp_ms: int | None = None
    delay: float | None = None
    retry_after: int | None = None
    never: bool = False  # keep the stream open and never answer


def _default_reply(token: str) -> Reply:
    if token.startswith("unregistered-"):
        return Reply(410, "Unregistered", timestamp_ms=int(time.time() * 1000))
    if token.startswith("bad-"):
        return Reply(400, "BadDeviceToken")
    if token.startswith("topic-"):
        return Reply(400, "DeviceTokenNotForTopic")
    if token.startswith("big-"):
        return Reply(413, "PayloadTooLarge")
    if token.startswith("busy-"):
        return Reply(503, "ServiceUnavailable")
    if token.startswith("slow-"):
        return Reply(never=True)
    if set(token) == {"0"}:  # no device has it (what a credential probe pushes to)
        return Reply(400, "BadDeviceToken")
    return Reply()


class FakeAPNs:
    """The server's state, shared between its event loop thread and the test (every access holds `_lock`)."""

    def __init__(self, *, public_key: ec.EllipticCurvePublicKey | None = None, record: bool = True):
        self.public_key = public_key  # None: any well-formed ES256 JWT is accepted
        self.keys: dict[str, ec.EllipticCurvePublicKey] = {}  # key id -> key: JWTs naming it verify with it
        self.record = record  # a benchmark turns recording off and reads `count`
        self.host = "127.0.0.1"
        self.port = 0
        self.ca_file = ""
        self._lock = threading.Lock()
        self._requests: list[dict] = []
        self._jwts: set[str] = set()
        self._scripts: dict[str, deque[Reply]] = {}
        self._issued_at: dict[str, int | None] = {}  # JWT -> its iat once verified, None if invalid
        self._connections = 0
        self._count = 0
        self._open: set[_Connection] = set()  # touched by the loop thread only
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self.realism = Realism()

    # -- what tests read and set --------------------------------------------------------------

    @property
    def requests(self) -> list[dict]:
        """Every push received: {"token", "headers" (dict), "payload" (parsed JSON or None), "jwt"}."""
        with self._lock:
            return list(self._requests)

    @property
    def jwts(self) -> set[str]:
        """The distinct provider JWTs seen (one per client process when the client reuses its token)."""
        with self._lock:
            return set(self._jwts)

    @property
    def connections(self) -> int:
        """How many TLS connections were accepted since the last reset."""
        with self._lock:
            return self._connections

    @property
    def count(self) -> int:
        """How many pushes were received since the last reset (also when not recording)."""
        with self._lock:
            return self._count

    def script(
        self,
        token: str,
        status: int,
        reason: str = "",
        timestamp_ms: int | None = None,
        delay: float | None = None,
        times: int = 1,
        retry_after: int | None = None,
    ) -> None:
        """Answer the next `times` pushes to `token` with `status`/`reason` (after `delay` seconds)."""
        reply = Reply(status, reason, timestamp_ms=timestamp_ms, delay=delay, retry_after=retry_after)
        with self._lock:
            self._scripts.setdefault(token, deque()).extend([reply] * times)

    def trust(self, key_id: str, public_key: ec.EllipticCurvePublicKey) -> None:
        """Accept JWTs naming `key_id` and signed by this key; others verify with `public_key`, if any."""
        with self._lock:
            self.keys[key_id] = public_key

    def reset(self) -> None:
        """Forget recorded requests, JWTs, trusted keys, scripts and counters (not the open connections)."""
        with self._lock:
            self.keys.clear()
            self._requests.clear()
            self._jwts.clear()
            self._scripts.clear()
            self._connections = 0
            self._count = 0
        self.realism = Realism()

    def disconnect(self) -> None:
        """Close every open client connection, as APNs does when it recycles a connection."""
        if self._loop is not None:
            asyncio.run_coroutine_threadsafe(self._close_connections(), self._loop).result(5)

    # -- serving --------------------------------------------------------------------------------

    def start(self, directory: Path, port: int = 0) -> None:
        """Generate the TLS files in `directory` and serve on 127.0.0.1:`port` (0: a free port) in a thread."""
        ca_file, cert_file, key_file = write_tls_files(directory)
        self.ca_file = str(ca_file)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert_file, key_file)
        context.set_alpn_protocols(["h2"])
        ready = threading.Event()
        errors: list[BaseException] = []
        self._thread = threading.Thread(
            target=self._serve, args=(context, port, ready, errors), name="fake-apns", daemon=True
        )
        self._thread.start()
        ready.wait(10)
        if errors:
            raise errors[0]

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    def _serve(self, context: ssl.SSLContext, port: int, ready: threading.Event, errors: list) -> None:
        loop = asyncio.new_event_loop()
        try:
            server = loop.run_until_complete(
                loop.create_server(lambda: _Connection(self), self.host, port, ssl=context)
            )
        except BaseException as error:
            errors.append(error)
            ready.set()
            loop.close()
            return
        self.port = server.sockets[0].getsockname()[1]
        self._loop = loop
        ready.set()
        loop.run_forever()
        server.close()
        loop.run_until_complete(self._close_connections())
        loop.close()

    async def _close_connections(self) -> None:
        for connection in list(self._open):
            connection.transport.close()
        await asyncio.sleep(0.05)  # let the TLS transports finish closing

    # -- deciding an answer (loop thread) ---------------------------------------------------------

    def _connected(self, connection: _Connection) -> None:
        self._open.add(connection)
        with self._lock:
            self._connections += 1

    def _jwt_error(self, token: str) -> str:
        """Return the APNs reason that refuses this provider JWT, or "" when it is acceptable."""
        if token not in self._issued_at:
            try:
                header = jwt.get_unverified_header(token)
                if header.get("alg") != "ES256" or not header.get("kid"):
                    raise jwt.InvalidTokenError("not an APNs provider token")
                with self._lock:
                    key = self.keys.get(header["kid"], self.public_key)
                claims = jwt.decode(
                    token,
                    key=key,
                    algorithms=["ES256"],
                    options={"verify_signature": key is not None, "require": ["iss", "iat"]},
                )
                self._issued_at[token] = int(claims["iat"])
            except (jwt.InvalidTokenError, TypeError, ValueError):
                self._issued_at[token] = None
        issued_at = self._issued_at[token]
        if issued_at is None:
            return "InvalidProviderToken"
        if issued_at < time.time() - JWT_MAX_AGE_SECONDS:
            return "ExpiredProviderToken"
        return ""

    def _answer(self, headers: dict[str, str], body: bytes) -> Reply:
        """Record one request and choose its reply: request errors first, then the script, then the prefix."""
        match = DEVICE_PATH.match(headers.get(":path", ""))
        if headers.get(":method") != "POST":
            return Reply(405, "MethodNotAllowed")
        if match is None:
            return Reply(404, "BadPath")
        token = match["token"]
        authorization = headers.get("authorization", "")
        provider_token = authorization[len("bearer ") :] if authorization.lower().startswith("bearer ") else ""
        try:
            payload = json.loads(body) if body else None
        except ValueError:
            payload = None
        with self._lock:
            self._count += 1
            if provider_token:
                self._jwts.add(provider_token)
            if self.record:
                self._requests.append(
                    {"token": token, "headers": dict(headers), "payload": payload, "jwt": provider_token}
                )
        if not provider_token:
            return Reply(403, "MissingProviderToken")
        jwt_error = self._jwt_error(provider_token)
        if jwt_error:
            return Reply(403, jwt_error)
        request_error = self._request_error(headers, body, payload)
        if request_error:
            return request_error
        if not self.realism.admit():
            return Reply(429, "TooManyRequests", retry_after=1)
        with self._lock:
            scripted = self._scripts.get(token)
            reply = scripted.popleft() if scripted else None
        reply = reply or _default_reply(token)
        delay = reply.delay if reply.delay is not None else self.realism.delay()
        injected = self.realism.injected_error() if reply.status == 200 else None
        if injected == 429:
            return Reply(429, "TooManyRequests", delay=delay, retry_after=self.realism.retry_after)
        if injected:
            return Reply(503, "ServiceUnavailable", delay=delay)
        return dataclasses.replace(reply, delay=delay or None)

    @staticmethod
    def _request_error(headers: dict[str, str], body: bytes, payload) -> Reply | None:
        if not headers.get("apns-topic"):
            return Reply(400, "MissingTopic")
        if headers.get("apns-push-type", "alert") not in PUSH_TYPES:
            return Reply(400, "InvalidPushType")
        if headers.get("apns-priority", "10") not in {"1", "5", "10"}:
            return Reply(400, "BadPriority")
        if not headers.get("apns-expiration", "0").isdigit():
            return Reply(400, "BadExpirationDate")
        if len(headers.get("apns-collapse-id", "").encode()) > 64:
            return Reply(400, "BadCollapseId")
        if not isinstance(payload, dict):
            return Reply(400, "PayloadEmpty")
        if len(body) > MAX_PAYLOAD_BYTES:
            return Reply(413, "PayloadTooLarge")
        return None


class _Connection(asyncio.Protocol):
    """One client connection: an h2 server state machine, one request per stream."""

    def __init__(self, fake: FakeAPNs):
        self.fake = fake
        self.transport: asyncio.Transport
        self.conn = H2Connection(config=H2Configuration(client_side=False, header_encoding="utf-8"))
        self.streams: dict[int, tuple[dict[str, str], bytearray]] = {}
        self.timers: list[asyncio.TimerHandle] = []

    def connection_made(self, transport) -> None:
        self.transport = transport
        self.fake._connected(self)
        self.conn.initiate_connection()
        self.conn.update_settings({SettingCodes.MAX_CONCURRENT_STREAMS: MAX_CONCURRENT_STREAMS})
        # A connection window for hundreds of streams in flight (h2's default, 64 KiB, holds ~60 pushes):
        # aioapns fails a send with FlowControlError rather than wait for a WINDOW_UPDATE.
        self.conn.increment_flow_control_window(CONNECTION_WINDOW_BYTES)
        self.transport.write(self.conn.data_to_send())

    def connection_lost(self, exc) -> None:
        self.fake._open.discard(self)
        for timer in self.timers:
            timer.cancel()

    def data_received(self, data: bytes) -> None:
        try:
            events = self.conn.receive_data(data)
        except H2Error:
            self.transport.close()
            return
        for event in events:
            if isinstance(event, RequestReceived):
                self.streams[event.stream_id] = (dict(event.headers), bytearray())
            elif isinstance(event, DataReceived):
                if event.stream_id in self.streams:
                    self.streams[event.stream_id][1].extend(event.data)
                self.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            elif isinstance(event, StreamEnded):
                self.request_complete(event.stream_id)
            elif isinstance(event, StreamReset):
                self.streams.pop(event.stream_id, None)
            elif isinstance(event, ConnectionTerminated):
                self.transport.close()
        self.flush()

    def request_complete(self, stream_id: int) -> None:
        headers, body = self.streams.pop(stream_id)
        reply = self.fake._answer(headers, bytes(body))
        # APNs echoes the request's apns-id; aioapns matches answers to requests by it.
        apns_id = headers.get("apns-id") or str(uuid.uuid4())
        if reply.never:
            return
        if reply.delay:
            loop = asyncio.get_running_loop()
            self.timers.append(loop.call_later(reply.delay, self.respond, stream_id, apns_id, reply))
        else:
            self.respond(stream_id, apns_id, reply)

    def respond(self, stream_id: int, apns_id: str, reply: Reply) -> None:
        if self.transport.is_closing():
            return
        headers = [(":status", str(reply.status)), ("apns-id", apns_id)]
        if reply.retry_after is not None:
            headers.append(("retry-after", str(reply.retry_after)))
        try:
            if reply.status == 200:
                self.conn.send_headers(stream_id, headers, end_stream=True)
            else:
                body = {"reason": reply.reason}
                if reply.timestamp_ms is not None:
                    body["timestamp"] = reply.timestamp_ms
                data = json.dumps(body).encode()
                self.conn.send_headers(stream_id, [*headers, ("content-type", "application/json")])
                self.conn.send_data(stream_id, data, end_stream=True)
        except H2Error:
            return  # the client reset the stream or the connection is going away
        self.flush()

    def flush(self) -> None:
        data = self.conn.data_to_send()
        if data and not self.transport.is_closing():
            self.transport.write(data)


@contextmanager
def running(
    public_key: ec.EllipticCurvePublicKey | None = None, *, port: int = 0, record: bool = True
) -> Iterator[FakeAPNs]:
    """Serve a fake APNs on 127.0.0.1 (a free port unless `port` is given) while the block runs."""
    with tempfile.TemporaryDirectory(prefix="fake-apns-") as directory:
        fake = FakeAPNs(public_key=public_key, record=record)
        fake.start(Path(directory), port)
        try:
            yield fake
        finally:
            fake.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description="Run a fake APNs (HTTP/2 over TLS) in the foreground.")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--ca-out", required=True, help="where to copy the CA certificate the client must trust")
    parser.add_argument("--public-key", help="PEM public key that verifies provider JWTs (default: accept any)")
    realism_module.add_arguments(parser)
    arguments = parser.parse_args()
    public_key = None
    if arguments.public_key:
        public_key = serialization.load_pem_public_key(Path(arguments.public_key).read_bytes())
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with running(public_key, port=arguments.port, record=False) as fake:
        fake.realism = realism_module.from_arguments(arguments)
        shutil.copyfile(fake.ca_file, arguments.ca_out)
        print(f"fake APNs listening on {fake.host}:{fake.port} (CA: {arguments.ca_out})", flush=True)
        while not stop.wait(1):
            pass
        print(f"fake APNs served {fake.count} pushes over {fake.connections} connections", flush=True)
        print(json.dumps(fake.realism.stats()), flush=True)


if __name__ == "__main__":
    main()
