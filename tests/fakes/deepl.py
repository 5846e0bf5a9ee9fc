"""A local fake of DeepL's text API (`/v2/translate`, `/v2/usage`), spoken to by the real `deepl` client over HTTP.

Standard library only, so a benchmark can run it in another process:

    python -m tests.fakes.deepl --port 8898 --auth-key test-key:fx --latency 0.02

In tests, `running(auth_key)` starts it on a free port of 127.0.0.1 and yields the fake: point
DEEPL_SERVER_URL at `.base_url`, read `.requests`, steer answers with `.script()`; `.accept(key)` and
`.refuse(key)` add and remove keys accepted besides `auth_key` (an account's other keys).

It "translates" word by word from a small dictionary (`WORDS`; unknown words stay as they are) and,
with tag_handling=xml, leaves every tag and the content of `ignore_tags` untouched, as DeepL does.
A script answers the next requests with an error status (456 quota, 429 with Retry-After, 500), after
`delay` seconds, or with the first `<x .../>` tag of every text dropped (`drop_tag=True`).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

# The fake's dictionary: (source, target) -> {word: translation}, matched case-insensitively on whole words.
WORDS = {
    ("EN", "AR"): {
        "your": "ك",
        "order": "الطلب",
        "is": "",
        "ready": "جاهز",
        "reading": "قراءة",
        "love": "الحب",
        "today": "اليوم",
        "money": "المال",
        "luck": "الحظ",
        "horoscope": "الأبراج",
        "coffee": "القهوة",
        "cup": "فنجان",
        "healing": "الشفاء",
        "astrology": "علم الفلك",
        "direct": "مباشر",
        "call": "مكالمة",
        "spam": "رسائل مزعجة",
        "abuse": "إساءة",
        "trust": "ثق",
        "intuition": "حدسك",
    },
    ("AR", "EN-US"): {"اليوم": "today", "الحب": "love", "الحظ": "luck", "المال": "money"},
}
_TAG = re.compile(r"(<[^>]*>)")
_WORD = re.compile(r"\w+", re.UNICODE)
_X_TAG = re.compile(r"<x\b[^>]*/>")


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    body: dict
    authorized: bool


@dataclass
class Script:
    status: int
    retry_after: int | str | None
    delay: float | None
    drop_tag: bool
    times: int | None


@dataclass
class FakeDeepL:
    """The server's state; the HTTP handler reads and writes it under `lock`."""

    auth_key: str
    latency: float = 0.0  # seconds every request waits before it is answered
    character_limit: int = 500_000
    base_url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopping: threading.Event = field(default_factory=threading.Event)
    character_count: int = 0
    _requests: list[RecordedRequest] = field(default_factory=list)
    _scripts: list[Script] = field(default_factory=list)
    _other_keys: set[str] = field(default_factory=set)  # accepted besides auth_key (an account has several)

    def accept(self, auth_key: str) -> None:
        """Accept this key too, as DeepL does for every key of the account (a new key before rotation)."""
        with self.lock:
            self._other_keys.add(auth_key)

    def refuse(self, auth_key: str) -> None:
        """Stop accepting a key added with `accept` (a key deleted in DeepL's console)."""
        with self.lock:
            self._other_keys.discard(auth_key)

    def accepts(self, header: str) -> bool:
        with self.lock:
            keys = [self.auth_key, *self._other_keys]
        # Every key is compared, so the answer takes as long whichever matched.
        return any([secrets.compare_digest(header, f"DeepL-Auth-Key {key}") for key in keys])

    @property
    def requests(self) -> list[RecordedRequest]:
        """A copy of every request received so far, oldest first."""
        with self.lock:
            return list(self._requests)

    def translate_requests(self) -> list[dict]:
        """The JSON bodies of the /v2/translate requests received so far."""
        return [r.body for r in self.requests if r.path == "/v2/translate"]

    def script(
        self,
        status: int = 200,
        *,
        retry_after: int | str | None = None,
        delay: float | None = None,
        drop_tag: bool = False,
        times: int | None = 1,
    ) -> None:
        """Answer the next `times` translate requests this way (None: every one), in the order scripted."""
        with self.lock:
            self._scripts.append(Script(status, retry_after, delay, drop_tag, times))

    def reset(self) -> None:
        """Forget the recorded requests, the scripts and the characters counted."""
        with self.lock:
            self._requests.clear()
            self._scripts.clear()
            self.character_count = 0

    # -- used by the handler --

    def record(self, request: RecordedRequest) -> None:
        with self.lock:
            self._requests.append(request)

    def next_script(self) -> Script | None:
        with self.lock:
            if not self._scripts:
                return None
            script = self._scripts[0]
            if script.times is not None:
                script.times -= 1
                if script.times <= 0:
                    self._scripts.pop(0)
            return script

    def bill(self, characters: int) -> None:
        with self.lock:
            self.character_count += characters


def translate(text: str, source: str, target: str, ignore_tags: list[str]) -> str:
    """The fake's translation of one text: tags kept, ignored elements kept, known words replaced."""
    words = WORDS.get((source, target), {})
    ignored: list[str] = []  # open ignored elements (a self-closing tag opens nothing)
    out = []
    for part in _TAG.split(text):
        if _TAG.fullmatch(part):
            name = re.match(r"</?\s*([\w:-]+)", part)
            tag = name.group(1) if name else ""
            if tag in ignore_tags and not part.endswith("/>"):
                if part.startswith("</"):
                    if ignored:
                        ignored.pop()
                else:
                    ignored.append(tag)
            out.append(part)
        elif ignored or not part:
            out.append(part)
        else:
            translated = _WORD.sub(lambda m: words.get(m.group(0).lower(), m.group(0)), part)
            out.append(re.sub(r"  +", " ", translated))
    return "".join(out)


def _error(message: str) -> dict:
    return {"message": message}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: Server

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        authorized = self._authorized()
        self.fake.record(RecordedRequest("GET", path, {}, authorized))
        self._wait(self.fake.latency)
        if not authorized:
            return self._send_json(403, _error("Wrong endpoint. Use https://api.deepl.com"))
        if path != "/v2/usage":
            return self._send_json(404, _error("Not found"))
        self._send_json(
            200, {"character_count": self.fake.character_count, "character_limit": self.fake.character_limit}
        )

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        length = int(self.headers.get("Content-Length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            body = None
        authorized = self._authorized()
        self.fake.record(RecordedRequest("POST", path, body if isinstance(body, dict) else {}, authorized))
        script = self.fake.next_script() if path == "/v2/translate" else None
        self._wait(self.fake.latency + ((script.delay or 0) if script else 0))
        if not authorized:
            return self._send_json(403, _error("Authorization failure, check auth_key"))
        if path != "/v2/translate":
            return self._send_json(404, _error("Not found"))
        if not isinstance(body, dict) or not isinstance(body.get("text"), list) or not body.get("target_lang"):
            return self._send_json(400, _error("Bad request. Reason: Parameter 'text' or 'target_lang' not specified."))
        if len(body["text"]) > 50:
            return self._send_json(413, _error("Request Entity Too Large"))
        if script and script.status >= 300:
            headers = {"Retry-After": str(script.retry_after)} if script.retry_after is not None else {}
            message = "Quota exceeded" if script.status == 456 else HTTPStatus(script.status).phrase
            return self._send_json(script.status, _error(message), headers)
        source, target = body.get("source_lang") or "EN", body["target_lang"]
        ignore_tags = body.get("ignore_tags") or []
        translations = []
        for text in body["text"]:
            out = translate(str(text), source, target, ignore_tags) if body.get("tag_handling") == "xml" else str(text)
            if script and script.drop_tag:
                out = _X_TAG.sub("", out, count=1)
            translations.append({"detected_source_language": source, "text": out, "billed_characters": len(text)})
        self.fake.bill(sum(len(t) for t in body["text"]))
        self._send_json(200, {"translations": translations})

    def _wait(self, seconds: float) -> None:
        if seconds:
            # Stopping the server wakes a slow answer, so no thread outlives the test.
            self.fake.stopping.wait(seconds)

    def _authorized(self) -> bool:
        return self.fake.accepts(self.headers.get("Authorization", ""))

    def _send_json(self, status: int, payload: dict, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    @property
    def fake(self) -> FakeDeepL:
        return self.server.fake

    def log_message(self, format, *args) -> None:
        pass


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], fake: FakeDeepL):
        super().__init__(address, Handler)
        self.fake = fake
        fake.base_url = f"http://{address[0]}:{self.server_address[1]}"

    def handle_error(self, request, client_address) -> None:
        pass


@contextlib.contextmanager
def running(auth_key: str, *, latency: float = 0.0) -> Iterator[FakeDeepL]:
    """Serve a fake DeepL on a free port of 127.0.0.1 for the duration of the block."""
    fake = FakeDeepL(auth_key, latency=latency)
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
    parser = argparse.ArgumentParser(description="Serve a fake DeepL text API.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--auth-key", required=True)
    parser.add_argument("--latency", type=float, default=0.0)
    arguments = parser.parse_args()
    fake = FakeDeepL(arguments.auth_key, latency=arguments.latency)
    server = Server((arguments.host, arguments.port), fake)
    print(f"fake deepl serving on {fake.base_url}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        fake.stopping.set()
        server.server_close()


if __name__ == "__main__":
    main()
