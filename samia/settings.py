"""Django settings for SAMIA-TAROT, read from the environment (see .env.example)."""

from datetime import timedelta
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="dev-only-insecure-key" if DEBUG else "")
if not SECRET_KEY:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off (see .env.example).")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=["http://127.0.0.1:8000", "http://localhost:8000"])

INSTALLED_APPS = [
    "modeltranslation",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "django_celery_beat",
    "samia.rls",
    "samia.accounts",
    "samia.marketplace",
    "samia.jobs",
    "samia.audit",
    "samia.events",
    "moderation",
    "notifications",
    "analytics",
    "community",
    "personalization",
    "ar",
    "i18n",
    "ops",
    "sre",
]

MIDDLEWARE = [
    "samia.logging.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: every view runs inside one transaction bound to the caller's identity.
    "samia.rls.middleware.RowLevelSecurityMiddleware",
]

ROOT_URLCONF = "samia.urls"
WSGI_APPLICATION = "samia.wsgi.application"
ASGI_APPLICATION = "samia.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default="postgres://root@127.0.0.1:5432/samia")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Server-side parameters let psycopg prepare repeated statements, so Postgres plans each
# query shape (policies included) once per connection instead of once per request.
DATABASES["default"].setdefault("OPTIONS", {})["server_side_binding"] = env.bool("DB_SERVER_SIDE_BINDING", default=True)
DATABASES["default"].setdefault("TEST", {})["NAME"] = env.str("TEST_DATABASE_NAME", default="test_samia")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="samia"),
    }
}
# Sessions (back office only) live in Redis: no session table for the request role to touch.
SESSION_ENGINE = "django.contrib.sessions.backends.cache"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

AUTH_USER_MODEL = "accounts.User"
# Email is unique case-insensitively through a functional constraint, which auth.W004 cannot see.
SILENCED_SYSTEM_CHECKS = ["auth.W004"]
AUTHENTICATION_BACKENDS = ["samia.accounts.backends.EmailBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/backoffice/login/"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("ar", "Arabic")]
MODELTRANSLATION_DEFAULT_LANGUAGE = "en"
MODELTRANSLATION_FALLBACK_LANGUAGES = ("en", "ar")
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    # Private media: never served by a public URL.
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": env.str("PRIVATE_MEDIA_ROOT", default=str(BASE_DIR / "var" / "private-media"))},
    },
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["samia.accounts.authentication.BoundIdentityAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["samia.rls.permissions.DeclaredAccess"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "samia.errors.api_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=7)),
    "SIGNING_KEY": env.str("JWT_SIGNING_KEY", default=SECRET_KEY),
    "ALGORITHM": "HS256",
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
    "UPDATE_LAST_LOGIN": False,
}
if SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"] > timedelta(minutes=15):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("JWT_ACCESS_MINUTES may be at most 15.")

LOGIN_RATE_LIMITS = {
    "account": (env.int("LOGIN_FAILURES_PER_ACCOUNT", default=5), env.int("LOGIN_WINDOW_SECONDS", default=900)),
    "ip": (env.int("LOGIN_FAILURES_PER_IP", default=20), env.int("LOGIN_WINDOW_SECONDS", default=900)),
}

SPECTACULAR_SETTINGS = {
    "TITLE": "SAMIA-TAROT API",
    "DESCRIPTION": "Backend of the SAMIA-TAROT readings marketplace. Every error uses the Error shape.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "PREPROCESSING_HOOKS": ["samia.schema.exclude_backoffice"],
    "ENUM_NAME_OVERRIDES": {"SignEnum": "samia.accounts.zodiac.Sign"},
}

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=REDIS_URL)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_RESULT_EXPIRES = 3600
CELERY_TASK_ALWAYS_EAGER = False
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# Ed25519 key that signs audit checkpoints and exports (`manage.py audit_keygen` makes one).
# Unset, attestation and exports answer that signing is unavailable.
AUDIT_SIGNING_KEY = env.str("AUDIT_SIGNING_KEY", default="")
AUDIT_SIGNING_KEY_ID = env.str("AUDIT_SIGNING_KEY_ID", default="")
# Audit rows older than this may be purged, and only when a signed export covers them.
AUDIT_RETENTION_DAYS = env.int("AUDIT_RETENTION_DAYS", default=400)
# Where the monthly job writes signed exports (<dir>/YYYY-MM/).
AUDIT_EXPORT_DIR = env.str("AUDIT_EXPORT_DIR", default=str(BASE_DIR / "var" / "audit-exports"))

# Provider name -> adapter class (samia/providers). A provider missing here is unavailable:
# its sends stay deferred, never faked. M22 adds the FCM, APNs and Twilio adapters.
PROVIDERS: dict[str, str] = {}

# Moderation records (cases, actions, lineage) and appeals are purged this long after they
# are over (resolved, lifted or expired, decided).
MODERATION_RETENTION_DAYS = env.int("MODERATION_RETENTION_DAYS", default=730)
APPEALS_RETENTION_DAYS = env.int("APPEALS_RETENTION_DAYS", default=730)

# Raw events are kept this many days (whole monthly partitions are dropped); aggregates live longer.
EVENTS_RAW_RETENTION_DAYS = env.int("EVENTS_RAW_RETENTION_DAYS", default=180)
# Key of the keyed hash that stands in for callers without an account; defaults to SECRET_KEY.
EVENTS_HASH_KEY = env.str("EVENTS_HASH_KEY", default=SECRET_KEY)

# Analytics (M23): days are cut in this business time zone; the nightly rollup recomputes the
# last ANALYTICS_LATE_DAYS days for late events; aggregates are kept longer than raw events.
ANALYTICS_TIMEZONE = env.str("ANALYTICS_TIMEZONE", default="Asia/Riyadh")
ANALYTICS_LATE_DAYS = env.int("ANALYTICS_LATE_DAYS", default=3)
ANALYTICS_AGGREGATE_RETENTION_DAYS = env.int("ANALYTICS_AGGREGATE_RETENTION_DAYS", default=1100)
ANALYTICS_LISTEN_THROUGH_PERCENT = env.int("ANALYTICS_LISTEN_THROUGH_PERCENT", default=90)

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"scrub": {"()": "samia.logging.ScrubFilter"}},
    "formatters": {"json": {"()": "samia.logging.JsonFormatter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["scrub"]},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.request": {"level": "ERROR"},
        "django.server": {"level": "WARNING"},
        # twilio's http client logs full URLs, which carry phone numbers.
        "twilio.http_client": {"level": "WARNING"},
    },
}
CSRF_FAILURE_VIEW = "samia.errors.csrf_failure"
