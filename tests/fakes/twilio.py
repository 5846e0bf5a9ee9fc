"""A local fake of Twilio's REST API (Messages and Accounts), spoken to by the real twilio library over HTTP.

Standard library only, so a benchmark can run it in another process:

    python -m tests.fakes.twilio --port 8899 --account-sid AC... --auth-token secret

In tests, `running(account_sid, auth_token)` starts it on a free port of 127.0.0.1 and yields
the server: point TWILIO_API_BASE at `.base_url`, read `.requests`, steer answers with `.script()`.

Without a script, the recipient's last digits choose the answer, like Twilio's magic numbers:
"0000" unsubscribed (21610), "1111" invalid 'To' (21211), "2222" rate limited (429, 20429,
Retry-After: 5), "3333" unavailable (503), "9999" answers after `slow_seconds`, longer than any
client timeout used in tests. Every other number is accepted.

Latency, injected 429/503 answers and a rate limit (429, 20429 over it, counted) come from
`realism` (tests/fakes/realism.py); in a test it answers at once unless the test sets them.
`GET /__fake/stats` answers `realism.stats()`. Standalone options:
`[--latency-ms 80 --p99-ms 400 --error-share 0 --rate-limit 0]`.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.utils import formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from tests.fakes import realism as realism_module
from tests.fakes.realism import Realism

API_VERSION = "2010-04-01"
FAKE_PHONE_NUMBER = "+15005550006"  # the number inbound messages are addressed to

# Twilio's texts for the errors the fake answers with (https://www.twilio.com/docs/api/errors).
ERROR_MESSAGES = {
    20003: "Authenticate",
    20404: "The requested resource was not found",
    20429: "Too Many Requests",
    20503: "Service Unavailable",
    21211: "The 'To' number {to} is not a valid phone number.",  # real answers quote the number
    21603: "A 'From' phone number is required.",
    21604: "A 'To' phone number is required.",
    21610: "Attempt to send to unsubscribed recipient",
    21612: "The 'To' phone number is not currently reachable via SMS",
    21614: "'To' number is not a valid mobile number",
    21619: "A text message body or media urls must be specified.",
    21656: "The ContentVariables Parameter is invalid.",
    63003: "Channel could not find To address",
    63016: "Failed to send freeform message because you are outside the allowed window.",
}

# The default answers by the recipient's last four digits: (status, code, Retry-After).
BY_SUFFIX = {
    "0000": (400, 21610, None),
    "1111": (400, 21211, None),
    "2222": (429, 20429, 5),
    "3333": (503, 20503, None),
}
SLOW_SUFFIX = "9999"


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    form: dict[str, str]  # the form fields of a POST, one value each
    authorized: bool
    at: float = field(default_factory=time.time)  # when it arrived (epoch seconds)


@dataclass
class Script:
    status: int
    code: int | None
    retry_after: int | str | None  # seconds, or an HTTP date
    delay: float | None
    times: int | None  # None: for every request
    disconnect: bool


@dataclass
class FakeTwilio:
    """The server's state; the HTTP handler below reads and writes it under `lock`."""

    account_sid: str
    auth_token: str
    slow_seconds: float = 5.0
    base_url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopping: threading.Event = field(default_factory=threading.Event)
    _requests: list[RecordedRequest] = field(default_factory=list)
    _scripts: dict[str, list[Script]] = field(default_factory=dict)
    _messages: dict[str, dict] = field(default_factory=dict)
    realism: Realism = field(default_factory=Realism)

    @property
    def requests(self) -> list[RecordedRequest]:
        """A copy of every request received so far, oldest first."""
        with self.lock:
            return list(self._requests)

    def messages_posted(self) -> list[dict[str, str]]:
        """The forms of the Messages POSTs received so far."""
        return [r.form for r in self.requests if r.method == "POST" and r.path.endswith("/Messages.json")]

    def script(
        self,
        to: str,
        status: int = 400,
        code: int | None = 21610,
        retry_after: int | str | None = None,
        delay: float | None = None,
        times: int | None = 1,
        disconnect: bool = False,
    ) -> None:
        """Answer the next `times` messages to `to` this way (a 2xx status accepts the message).

        `delay` waits that many seconds before answering; `disconnect` closes the connection
        instead of answering, after the request was read (the "did it send?" case).
        Scripts for one number queue up in order; `to` matches with or without "whatsapp:".
        """
        with self.lock:
            self._scripts.setdefault(_bare(to), []).append(Script(status, code, retry_after, delay, times, disconnect))

    def reset(self) -> None:
        """Forget the recorded requests, the scripts and the messages."""
        with self.lock:
            self._requests.clear()
            self._scripts.clear()
            self._messages.clear()
        self.realism = Realism()

    def status_callback_form(
        self, message_sid: str, status: str, error_code: int | str | None = None
    ) -> dict[str, str]:
        """The form Twilio posts to a message's StatusCallback when its status changes."""
        with self.lock:
            message = self._messages.get(message_sid, {})
        form = {
            "MessageSid": message_sid,
            "SmsSid": message_sid,
            "MessageStatus": status,
            "SmsStatus": status,
            "AccountSid": self.account_sid,
            "ApiVersion": API_VERSION,
        }
        for key, name in (("to", "To"), ("from", "From"), ("messaging_service_sid", "MessagingServiceSid")):
            if message.get(key):
                form[name] = message[key]
        if error_code is not None:
            form["ErrorCode"] = str(error_code)
        return form

    def inbound_form(self, from_: str, body: str, opt_out_type: str | None = None) -> dict[str, str]:
        """The form Twilio posts to the inbound-message webhook (OptOutType: STOP, START or HELP)."""
        sid = _sid("SM")
        whatsapp = from_.startswith("whatsapp:")
        form = {
            "MessageSid": sid,
            "SmsSid": sid,
            "SmsMessageSid": sid,
            "AccountSid": self.account_sid,
            "From": from_,
            "To": f"whatsapp:{FAKE_PHONE_NUMBER}" if whatsapp else FAKE_PHONE_NUMBER,
            "Body": body,
            "NumMedia": "0",
            "NumSegments": "1",
            "SmsStatus": "received",
            "ApiVersion": API_VERSION,
        }
        if opt_out_type is not None:
            form["OptOutType"] = opt_out_type
        return form

    # -- used by the handler --

    def record(self, request: RecordedRequest) -> None:
        with self.lock:
            self._requests.append(request)

    def next_script(self, to: str) -> Script | None:
        with self.lock:
            queue = self._scripts.get(_bare(to))
            if not queue:
                return None
            script = queue[0]
            if script.times is not None:
                script.times -= 1
                if script.times <= 0:
                    queue.pop(0)
            return script

    def remember(self, message: dict) -> None:
        with self.lock:
            self._messages[message["sid"]] = message


def _bare(address: str) -> str:
    return address.removeprefix("whatsapp:")


def _sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


def _error(status: int, code: int | None, to: str = "") -> dict:
    code = code if code is not None else status
    return {
        "code": code,
        "message": ERROR_MESSAGES.get(code, HTTPStatus(status).phrase).format(to=to),
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


class Handler(BaseHTTPRequestHandler):
    """Twilio's two resources that the adapters use; everything else is a Twilio-shaped 404."""

    protocol_version = "HTTP/1.1"  # keep-alive, as the library's pooled session expects
    disable_nagle_algorithm = True  # headers and body go in two writes: don't hold the second back
    server: Server

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path == "/__fake/stats":
            numbers = [form.get("To", "") for form in self.fake.messages_posted()]
            extra = {"messages": len(numbers), "distinct_to": len(set(numbers))}  # a difference: a text sent twice
            return self._send_json(200, {**self.fake.realism.stats(), **extra})
        authorized = self._authorized()
        self.fake.record(RecordedRequest("GET", path, {}, authorized))
        if not authorized:
            return self._send_json(401, _error(401, 20003))
        if path != f"/{API_VERSION}/Accounts/{self.fake.account_sid}.json":
            return self._send_json(404, _error(404, 20404))
        self._send_json(200, self._account())

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        length = int(self.headers.get("Content-Length") or 0)
        fields = parse_qs(self.rfile.read(length).decode(), keep_blank_values=True)
        form = {key: values[-1] for key, values in fields.items()}
        authorized = self._authorized()
        self.fake.record(RecordedRequest("POST", path, form, authorized))
        if not authorized:
            return self._send_json(401, _error(401, 20003))
        if path != f"/{API_VERSION}/Accounts/{self.fake.account_sid}/Messages.json":
            return self._send_json(404, _error(404, 20404))
        self._create_message(form)

    def _create_message(self, form: dict[str, str]) -> None:
        to = form.get("To", "")
        invalid = self._invalid(form)
        if invalid:
            return self._send_json(400, _error(400, invalid))
        realism = self.fake.realism
        if not realism.admit():
            return self._send_json(429, _error(429, 20429, to), {"Retry-After": "1"})
        script = self.fake.next_script(to)
        if script is None:
            status, code, retry_after = BY_SUFFIX.get(to[-4:], (201, None, None))
            delay = self.fake.slow_seconds if to.endswith(SLOW_SUFFIX) else None
            script = Script(status, code, retry_after, delay, None, False)
        delay = script.delay or realism.delay()
        if delay:
            # Stopping the server wakes a slow answer, so no thread outlives the test.
            self.fake.stopping.wait(delay)
        if script.disconnect:
            self.close_connection = True
            return
        injected = realism.injected_error() if script.status < 300 else None
        if injected == 429:
            return self._send_json(429, _error(429, 20429, to), {"Retry-After": str(realism.retry_after)})
        if injected:
            return self._send_json(503, _error(503, 20503, to))
        if script.status >= 300:
            headers = {"Retry-After": str(script.retry_after)} if script.retry_after is not None else {}
            return self._send_json(script.status, _error(script.status, script.code, to), headers)
        message = self._message(form)
        self.fake.remember(message)
        self._send_json(script.status, message)

    @staticmethod
    def _invalid(form: dict[str, str]) -> int | None:
        """Twilio's error code for a form it would refuse, or None."""
        if not form.get("To"):
            return 21604
        if not form.get("From") and not form.get("MessagingServiceSid"):
            return 21603
        if not form.get("Body") and not form.get("ContentSid") and not form.get("MediaUrl"):
            return 21619
        if "ContentVariables" in form:
            try:
                variables = json.loads(form["ContentVariables"])
            except ValueError:
                return 21656
            if not isinstance(variables, dict):
                return 21656
        return None

    def _message(self, form: dict[str, str]) -> dict:
        sid, now, account = _sid("SM"), formatdate(usegmt=True), self.fake.account_sid
        return {
            "account_sid": account,
            "api_version": API_VERSION,
            "body": form.get("Body", ""),
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": form.get("From") or None,
            "messaging_service_sid": form.get("MessagingServiceSid") or None,
            "num_media": "0",
            "num_segments": "1",
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            # Through a Messaging Service without a From, Twilio picks the sender later: "accepted".
            "status": "queued" if form.get("From") else "accepted",
            "subresource_uris": {"media": f"/{API_VERSION}/Accounts/{account}/Messages/{sid}/Media.json"},
            "to": form.get("To"),
            "uri": f"/{API_VERSION}/Accounts/{account}/Messages/{sid}.json",
        }

    def _account(self) -> dict:
        account, now = self.fake.account_sid, formatdate(usegmt=True)
        return {
            "auth_token": self.fake.auth_token,
            "date_created": now,
            "date_updated": now,
            "friendly_name": "fake account",
            "owner_account_sid": account,
            "sid": account,
            "status": "active",
            "subresource_uris": {"messages": f"/{API_VERSION}/Accounts/{account}/Messages.json"},
            "type": "Full",
            "uri": f"/{API_VERSION}/Accounts/{account}.json",
        }

    def _authorized(self) -> bool:
        expected = base64.b64encode(f"{self.fake.account_sid}:{self.fake.auth_token}".encode()).decode()
        return secrets.compare_digest(self.headers.get("Authorization", ""), f"Basic {expected}")

    def _send_json(self, status: int, payload: dict, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    @property
    def fake(self) -> FakeTwilio:
        return self.server.fake

    def log_message(self, format, *args) -> None:
        pass  # request lines carry phone numbers in a real deployment; keep test output clean too


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # bursts from a benchmark's many clients

    def __init__(self, address: tuple[str, int], fake: FakeTwilio):
        super().__init__(address, Handler)
        self.fake = fake
        fake.base_url = f"http://{address[0]}:{self.server_address[1]}"

    def handle_error(self, request, client_address) -> None:
        pass  # a client that gave up (timeout) makes the late answer fail; that is expected here


@contextlib.contextmanager
def running(account_sid: str, auth_token: str, *, slow_seconds: float = 5.0) -> Iterator[FakeTwilio]:
    """Serve a fake Twilio on a free port of 127.0.0.1 for the duration of the block."""
    fake = FakeTwilio(account_sid, auth_token, slow_seconds=slow_seconds)
    server = Server(("127.0.0.1", 0), fake)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        fake.stopping.set()
        server.shutdown()
        server.server_close()
        thread.join()


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve a fake Twilio REST API.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--account-sid", required=True)
    parser.add_argument("--auth-token", required=True)
    parser.add_argument("--slow-seconds", type=float, default=5.0)
    realism_module.add_arguments(parser)
    arguments = parser.parse_args()
    fake = FakeTwilio(arguments.account_sid, arguments.auth_token, slow_seconds=arguments.slow_seconds)
    fake.realism = realism_module.from_arguments(arguments)
    server = Server((arguments.host, arguments.port), fake)
    print(f"fake twilio serving on {fake.base_url}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        fake.stopping.set()
        server.server_close()


if __name__ == "__main__":
    main()
