"""Settings for the test suite: the real PostgreSQL and Redis, with fast password hashing."""

import os

os.environ.setdefault("SECRET_KEY", "tests-only-signing-key-that-is-long-enough")
os.environ.setdefault("JWT_SIGNING_KEY", "tests-only-jwt-signing-key-that-is-long-enough")
os.environ.setdefault("NOTIFICATIONS_LINK_KEYS", "k0=tests-only-link-signing-key")
# A fixed test-only key for the identity binding (samia.rls.binding); migrate stores it in the test database.
os.environ.setdefault("RLS_BINDING_KEY", "tests-only-rls-binding-key")
os.environ.setdefault("COMMUNITY_HANDLE_KEY", "tests-only-community-handle-key")
# A fixed test-only master key of the keyring (samia/secrets): a valid Fernet key, never used elsewhere.
os.environ.setdefault("SECRETS_MASTER_KEYS", "dGVzdHMtb25seS1zZWNyZXRzLW1hc3Rlci1rZXktMzI=")
# Keys production must set (no default when DEBUG is off): the values they used to derive from SECRET_KEY.
os.environ.setdefault("EVENTS_HASH_KEY", os.environ["SECRET_KEY"])
os.environ.setdefault("NOTIFICATIONS_ADDRESS_KEY", f"address:{os.environ['SECRET_KEY']}")
os.environ.setdefault("STORAGE_URL_KEYS", f"k0=storage-urls:{os.environ['SECRET_KEY']}")
# One key space per test process (pytest-xdist workers share the Redis server). A worker inherits the
# controller's environment, so it makes its own unless the one it inherited is already its own (a
# subprocess a test starts, a Celery worker say, shares its test's key space).
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
if not os.environ.get("CACHE_KEY_PREFIX", "").startswith(f"samia-test-{_WORKER}-"):
    os.environ["CACHE_KEY_PREFIX"] = f"samia-test-{_WORKER}-{os.getpid()}"

from samia.settings import *  # noqa: E402, F403  (after the environment above)

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Staff sign in with a password alone here; the two-factor tests turn it on (tests/backoffice/test_two_factor.py).
STAFF_2FA_REQUIRED = False
AUTH_PASSWORD_VALIDATORS = []
STORAGES = {**STORAGES, "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"}}  # noqa: F405

# A fixed test-only audit signing key (never used outside the test suite).
AUDIT_SIGNING_KEY = "dGVzdC1vbmx5LWF1ZGl0LXNpZ25pbmcta2V5LTMyYiE="
AUDIT_SIGNING_KEY_ID = "0123456789ABCDEF"

# A task that a committing test queues (a request's on_commit) goes to a queue that no worker consumes
# unless a test starts one for it: a developer's `make run` worker on the same Redis never runs it.
CELERY_TASK_DEFAULT_QUEUE = f"samia-tests-{_WORKER}"
# Webhooks are processed by calling the inbox job in the test, not through a broker.
NOTIFICATIONS_INBOX_ON_COMMIT = False
# Provider circuits never open by accident across tests (a fake answering 503 five times);
# tests/ops sets the real threshold where it tests the breaker.
PROVIDER_BREAKER_FAIL_MAX = 1_000_000
# The route limiter counts in Redis like production, with limits no other test reaches; tests/sre sets the real ones.
SRE_RATE_LIMITS = {"default": {"user": "100000/second", "ip": "100000/second"}}
SRE_QUOTAS = {name: {**quota, "limit": 10**9} for name, quota in SRE_QUOTAS.items()}  # noqa: F405
