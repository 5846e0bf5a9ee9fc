"""API error bodies stay byte-identical: status code and exact response bytes, against a golden file.

Each case drives one error path through the real stack (the DRF test client, real JWTs, PostgreSQL with
its row-level security, Redis) and records the status code and `response.content`. The golden file,
tests/error_bodies.json, was recorded from the code before the exceptions moved out of the services
(commit 847f7e2); a case fails when either the status or one byte of the body differs.

Determinism:
- every request carries a fixed X-Request-ID derived from the case name, so `request_id` is fixed;
- unknown ids are fixed (999999) and the ids of rows a case creates are only used in URLs;
- the one id that a body echoes, `appeal_id` in the "already appealed" 409, is replaced in the body
  (the exact JSON text `"appeal_id":<pk>`) by `"appeal_id":"<appeal_id>"` before comparing, in the golden
  body and the live body alike. If the id ever rendered differently (e.g. as a string), the replacement
  would not apply and the case would fail.

Regenerate the golden file only from a tree whose error bodies are the reference:

    UPDATE_ERROR_BODIES=1 python -m pytest tests/test_error_bodies.py
"""

from __future__ import annotations

import difflib
import json
import os
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from tests.conftest import token_for
from tests.error_body_cases import CASES, marketplace, moderation, notifications, other  # noqa: F401  (they register)

pytestmark = pytest.mark.django_db

GOLDEN = Path(__file__).with_name("error_bodies.json")
UPDATE = os.environ.get("UPDATE_ERROR_BODIES") == "1"

# --- the test ------------------------------------------------------------------------------------------------------


def _client_for(request_id: str):
    def api(user=None) -> APIClient:
        client = APIClient()
        headers = {"HTTP_X_REQUEST_ID": request_id}
        if user is not None:
            headers["HTTP_AUTHORIZATION"] = f"Bearer {token_for(user)}"
        client.credentials(**headers)
        return client

    return api


def normalise(body: str, ids: dict[str, int]) -> str:
    """Replace `"key":<id>` by `"key":"<key>"` for the ids a case names (see the module docstring)."""
    for key, value in ids.items():
        body = body.replace(f'"{key}":{value}', f'"{key}":"<{key}>"')
    return body


def _pretty(body: str) -> list[str]:
    try:
        return json.dumps(json.loads(body), indent=2, ensure_ascii=False).splitlines()
    except ValueError:
        return body.splitlines()


def _difference(name: str, expected: dict, status: int, body: str) -> str:
    lines = [f"{name}: the error response changed."]
    if status != expected["status"]:
        lines.append(f"  status: golden {expected['status']}, now {status}")
    if body != expected["body"]:
        lines.append(f"  golden body: {expected['body']}")
        lines.append(f"  live body:   {body}")
        diff = list(difflib.unified_diff(_pretty(expected["body"]), _pretty(body), "golden", "live", lineterm=""))
        if diff:
            lines.extend(["  diff (pretty-printed):", *("    " + line for line in diff)])
        else:
            lines.append("  same JSON, different bytes (key order, spacing or escaping)")
    return "\n".join(lines)


@pytest.fixture(scope="module")
def golden():
    recorded = json.loads(GOLDEN.read_text(encoding="utf-8")) if GOLDEN.exists() else {}
    yield recorded
    if UPDATE:
        kept = {name: recorded[name] for name in sorted(recorded) if name in CASES}
        GOLDEN.write_text(json.dumps(kept, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


@pytest.mark.parametrize("name", list(CASES))
def test_the_error_body_is_byte_identical(personas, golden, name):
    case_ = CASES[name]
    result = case_.run(_client_for(case_.request_id), personas)
    response, ids = result if isinstance(result, tuple) else (result, {})
    status, body = response.status_code, normalise(response.content.decode("utf-8"), ids)

    if UPDATE:
        assert status == case_.status, (name, status, body)
        assert json.loads(body)["error"]["request_id"] == case_.request_id, (name, body)
        golden[name] = {"status": status, "body": body}
        return
    assert name in golden, f"{name} has no golden entry: record it from the reference tree with UPDATE_ERROR_BODIES=1"
    expected = golden[name]
    if (status, body) != (expected["status"], expected["body"]):
        pytest.fail(_difference(name, expected, status, body), pytrace=False)


@pytest.mark.skipif(UPDATE, reason="the golden file is being rewritten")
def test_the_golden_file_holds_exactly_the_cases():
    recorded = json.loads(GOLDEN.read_text(encoding="utf-8"))

    assert sorted(recorded) == sorted(CASES)
