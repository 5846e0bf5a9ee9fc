"""The project and the kernel: Django, the two logins, cache, auth, languages, storage, DRF, JWT, Celery, audit, logs, the back office."""

from datetime import timedelta
from pathlib import Path

import environ
from django.templatetags.static import static
from django.utils.translation import gettext_lazy

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
# ENV_FILE (environment only) names another file to read instead of .env.
environ.Env.read_env(env.str("ENV_FILE", default=str(BASE_DIR / ".env")), overwrite=False)

DEBUG = env.bool("DEBUG", default=False)


def required_secret(name: str, *, debug_default: str, value: str | None = None) -> str:
    """Read a key production must set itself: never derived from another, never the .env.example placeholder."""
    from django.core.exceptions import ImproperlyConfigured

    value = (env.str(name, default="") if value is None else value) or (debug_default if DEBUG else "")
    if not value:
        raise ImproperlyConfigured(f"{name} must be set when DEBUG is off (see .env.example).")
    if value.startswith("replace-me"):
        raise ImproperlyConfigured(f"{name} is still the .env.example placeholder: generate one (see .env.example).")
    return value


SECRET_KEY = required_secret("SECRET_KEY", debug_default="dev-only-insecure-key")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=["http://127.0.0.1:8000", "http://localhost:8000"])
# HTTPS in production: Secure cookies unless DEBUG; HSTS for a year (browsers only heed it over
# HTTPS, so plain http://127.0.0.1:8000 is unaffected). The redirect to HTTPS and the proxy header
# that says a request came over HTTPS are off unless set: `make run` serves plain HTTP locally.
SECURE_COOKIES = env.bool("SECURE_COOKIES", default=not DEBUG)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = SECURE_COOKIES
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
# "HTTP_X_FORWARDED_PROTO,https": only behind a proxy that always sets (never forwards) that header.
SECURE_PROXY_SSL_HEADER = tuple(env.list("SECURE_PROXY_SSL_HEADER", default=[])) or None

INSTALLED_APPS = [
    "modeltranslation",
    # Before django.contrib.admin: its templates win, and its app config makes admin.site unfold's site.
    "unfold",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    # Feature switches (samia/features): waffle's tables; samia.feature_on reads them for the policies.
    "samia.features.waffle_app.WaffleConfig",  # waffle, named for the back office
    "samia.rls",
    "samia.accounts",
    "samia.marketplace",
    "samia.jobs",
    "samia.audit",
    "samia.secrets",
    "samia.events",
    "samia.features",
    "moderation",
    "notifications",
    "analytics",
    "community",
    "personalization",
    "ar",
    "i18n",
    "ops",
    "sre",
    # Last: the dashboard, the sidebar and the back office's own admin registrations (after every app's).
    "backoffice",
]

MIDDLEWARE = [
    # First: traffic and errors (django-prometheus) and latency per route pattern and status class (sre).
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "sre.middleware.RequestMetricsMiddleware",
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
    # RateLimit-* and Retry-After headers; gives back the daily quota of a refused request (sre).
    "sre.middleware.RateLimitMiddleware",
    # Last: every view runs inside one transaction bound to the caller's identity.
    "samia.rls.middleware.RowLevelSecurityMiddleware",
    # Inside the bound transaction (after it): the second-factor device is read as the session's
    # user, whose own device rows are all the declarations grant (samia/accounts/policies.py).
    "django_otp.middleware.OTPMiddleware",
    "samia.accounts.otp_middleware.StaffTwoFactorMiddleware",
    # Inside the binding: request.user is read under the caller's identity, never as the web login.
    "backoffice.middleware.ProfileLanguageMiddleware",
    "samia.backoffice_timezone.BackofficeTimezoneMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "samia.urls"
WSGI_APPLICATION = "samia.wsgi.application"
ASGI_APPLICATION = "samia.asgi.application"

# Formats Django's locale files leave out (samia/formats: Arabic dates with times).
FORMAT_MODULE_PATH = ["samia.formats"]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # Our corrections of third-party templates, found before the apps' own (backoffice/overrides).
        "DIRS": [BASE_DIR / "backoffice" / "overrides"],
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

# Two logins (samia/rls/RLS_README.md, "Logins"). DATABASE_URL is the owner: migrations, Celery and
# management commands. The web server (samia/wsgi.py sets DATABASE_LOGIN=web) logs in as
# DATABASE_WEB_URL, the role samia_web, which can do nothing but SET ROLE samia_app; by default
# the owner's URL with user samia_web and no password (local trust authentication).
DATABASE_LOGIN = env.str("DATABASE_LOGIN", default="owner")
DATABASE_OWNER = env.db("DATABASE_URL", default="postgres://root@127.0.0.1:5432/samia")
DATABASE_WEB = (
    env.db("DATABASE_WEB_URL")
    if env.str("DATABASE_WEB_URL", default="")
    else {**DATABASE_OWNER, "USER": "samia_web", "PASSWORD": ""}
)
if DATABASE_LOGIN not in ("owner", "web"):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("DATABASE_LOGIN must be owner or web.")
DATABASES = {"default": dict(DATABASE_WEB if DATABASE_LOGIN == "web" else DATABASE_OWNER)}
# Key of the HMAC that makes a request's user id count in Postgres (samia.rls.binding); `migrate`
# writes it where only the owner can read it. Changing it: migrate before restarting the web server.
RLS_BINDING_KEY = env.str("RLS_BINDING_KEY", default="dev-only-insecure-binding-key" if DEBUG else "")
if not RLS_BINDING_KEY:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("RLS_BINDING_KEY must be set when DEBUG is off (see .env.example).")
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
# The back office's login form carries no `next` when opened directly: land on the dashboard, not Django's /accounts/profile/.
LOGIN_REDIRECT_URL = "/backoffice/"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("ar", "Arabic")]
LOCALE_PATHS = [BASE_DIR / "locale"]
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
# Private files reached through URLs that expire (samia/storage): "local" keeps them under
# PRIVATE_MEDIA_ROOT and serves GET /files/<token>; "s3" keeps them in the private bucket
# STORAGE_S3_BUCKET (endpoint as django-storages reads it: AWS_S3_REGION_NAME, AWS_S3_ENDPOINT_URL)
# and hands out presigned GETs.
# The S3 access key of the private bucket and the S3 witness: version 1 of the keyring's
# `s3_access_key` (`manage.py secrets_set s3_access_key --key-id ID` rotates it). Both empty: boto3's
# chain (an instance or task role) signs, as when nothing is set.
AWS_ACCESS_KEY_ID = env.str("AWS_ACCESS_KEY_ID", default="")
AWS_SECRET_ACCESS_KEY = env.str("AWS_SECRET_ACCESS_KEY", default="")
# Where the bucket is: django-storages reads these as Django settings only (unset: boto3's own
# default region, AWS_DEFAULT_REGION, and AWS's endpoint).
AWS_S3_REGION_NAME = env.str("AWS_S3_REGION_NAME", default=None)
AWS_S3_ENDPOINT_URL = env.str("AWS_S3_ENDPOINT_URL", default=None)
STORAGE_BACKEND = env.str("STORAGE_BACKEND", default="local")
STORAGE_S3_BUCKET = env.str("STORAGE_S3_BUCKET", default="")
if STORAGE_BACKEND not in ("local", "s3") or (STORAGE_BACKEND == "s3" and not STORAGE_S3_BUCKET):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("STORAGE_BACKEND is local, or s3 with STORAGE_S3_BUCKET set.")
STORAGES["private"] = (
    {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": STORAGES["default"]["OPTIONS"]}
    if STORAGE_BACKEND == "local"
    else {
        "BACKEND": "samia.storage.s3.KeyringS3Storage",
        # SigV4: X-Amz-Expires is part of what S3 checks the signature over (every region accepts it).
        "OPTIONS": {
            "bucket_name": STORAGE_S3_BUCKET,
            "default_acl": None,
            "file_overwrite": False,
            "signature_version": "s3v4",
        },
    }
)
# Keys of the local signed URLs: "kid=secret,kid2=secret2"; new URLs use STORAGE_URL_KEY_ID. A URL
# lives minutes. Required unless DEBUG (which derives k0 from SECRET_KEY); the keyring's storage_urls
# (M28) imports the STORAGE_URL_KEY_ID key as its version 1 and rotates from there.
STORAGE_URL_KEYS = {
    key_id: required_secret("STORAGE_URL_KEYS", debug_default=f"storage-urls:{SECRET_KEY}", value=secret)
    for key_id, secret in (env.dict("STORAGE_URL_KEYS", default={}) or {"k0": ""}).items()
}
STORAGE_URL_KEY_ID = env.str("STORAGE_URL_KEY_ID", default="k0")
# How long a signed URL lives unless the caller asks for less; samia.storage caps it at 900 s.
STORAGE_URL_TTL_SECONDS = env.int("STORAGE_URL_TTL_SECONDS", default=300)
if not 1 <= STORAGE_URL_TTL_SECONDS <= 900 or STORAGE_URL_KEY_ID not in STORAGE_URL_KEYS:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("STORAGE_URL_TTL_SECONDS is 1 to 900 and STORAGE_URL_KEY_ID one of STORAGE_URL_KEYS.")
# AR assets (ar/): the largest upload accepted, in bytes (50 MB).
AR_MAX_UPLOAD_BYTES = env.int("AR_MAX_UPLOAD_BYTES", default=50 * 1024 * 1024)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["samia.accounts.authentication.BoundIdentityAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["samia.rls.permissions.DeclaredAccess"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["samia.errors.JsonParser"],
    "DEFAULT_SCHEMA_CLASS": "samia.schema.AutoSchema",
    "EXCEPTION_HANDLER": "samia.errors.api_exception_handler",
    # Burst and sustained limits per caller and route, daily quotas (sre/throttles.py, SRE_RATE_LIMITS).
    "DEFAULT_THROTTLE_CLASSES": ["sre.throttles.RouteRateThrottle"],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=7)),
    "SIGNING_KEY": required_secret("JWT_SIGNING_KEY", debug_default=SECRET_KEY),
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
# An address an account logged in from within this many days has a failure budget of its own for
# that account (samia/accounts/ACCOUNTS_README.md, "Login limits").
LOGIN_KNOWN_ADDRESS_DAYS = env.int("LOGIN_KNOWN_ADDRESS_DAYS", default=30)
# Proxies (addresses or networks) whose X-Forwarded-For is believed; empty: REMOTE_ADDR is the client.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
# Staff (monitors, admins, superadmins) sign in with a password and a TOTP code: the back office sends
# them to /backoffice/2fa/ first, POST /auth/token wants `otp` (samia/accounts/ACCOUNTS_README.md).
STAFF_2FA_REQUIRED = env.bool("STAFF_2FA_REQUIRED", default=not DEBUG)
OTP_TOTP_ISSUER = "SAMIA-TAROT"

SPECTACULAR_SETTINGS = {
    "TITLE": "SAMIA-TAROT API",
    "DESCRIPTION": "Backend of the SAMIA-TAROT readings marketplace. Every error uses the Error shape.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    # Swagger UI and Redoc from drf-spectacular-sidecar's static files: /api/docs/ needs no network.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "PREPROCESSING_HOOKS": ["samia.schema.exclude_backoffice"],
    "ENUM_NAME_OVERRIDES": {
        "SignEnum": "samia.accounts.zodiac.Sign",
        "RoleEnum": "samia.accounts.models.Role",
        "LanguageEnum": "samia.accounts.models.Language",
        "ChannelEnum": "notifications.models.Channel",
        "NotificationPurposeEnum": "notifications.models.Purpose",
        "CampaignPurposeEnum": [("marketing", "Marketing"), ("zodiac", "Daily horoscope")],
        "SuppressionReasonEnum": "notifications.models.Suppression.Reason",
        "SuppressionLiftReasonEnum": "notifications.models.LiftReason",
        "AppPlatformEnum": "samia.events.serializers.PLATFORMS",
        "PlatformEnum": "notifications.models.DeviceToken.Platform",
        "IncidentStatusEnum": "sre.models.Incident.Status",
        "HealthStatusEnum": [("pass", "pass"), ("warn", "warn"), ("fail", "fail")],
        "CommentStatusEnum": "community.models.Comment.Status",
        "ArAssetKindEnum": "ar.models.ArAsset.Kind",
    },
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
# The job signs the chain head when it moved and this many minutes passed since the last checkpoint:
# the most a database superuser can rewrite undetected (samia/audit/AUDIT_README.md, "The witness").
AUDIT_CHECKPOINT_MINUTES = env.int("AUDIT_CHECKPOINT_MINUTES", default=5)
# The write-once store every checkpoint is also written to: file:///dir (created exclusively, read-only
# files) or s3://bucket/prefix (a bucket with S3 Object Lock; the keyring's `s3_access_key`, endpoint
# as django-storages reads it: AWS_S3_REGION_NAME, AWS_S3_ENDPOINT_URL).
AUDIT_WITNESS = env.str("AUDIT_WITNESS", default=(BASE_DIR / "var" / "audit-witness").as_uri())
# S3 witness: each checkpoint is put with ObjectLockMode=COMPLIANCE until this many days from now.
AUDIT_WITNESS_RETENTION_DAYS = env.int("AUDIT_WITNESS_RETENTION_DAYS", default=3650)
# The published public key (a minisign .pub file) that audit_verify trusts where the signing key is not
# configured, e.g. on an auditor's machine; --public-key FILE overrides both.
AUDIT_PUBLIC_KEY = env.str("AUDIT_PUBLIC_KEY", default="")

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
        # the deepl client logs request and response bodies (the texts) at DEBUG and every URL at INFO.
        "deepl": {"level": "WARNING"},
    },
}
CSRF_FAILURE_VIEW = "samia.errors.csrf_failure"

# The back office (django-unfold; BACKOFFICE_README.md). An order awaiting approval longer than
# this many hours counts as stuck on the dashboard.
BACKOFFICE_STUCK_HOURS = env.int("BACKOFFICE_STUCK_HOURS", default=24)
UNFOLD = {
    "SITE_TITLE": gettext_lazy("SAMIA-TAROT"),
    "SITE_HEADER": gettext_lazy("SAMIA-TAROT back office"),
    "SITE_URL": "/backoffice/",
    "SITE_SYMBOL": "auto_awesome",
    # Right-to-left corrections of the theme (backoffice/static/backoffice/rtl.css).
    "STYLES": [lambda request: static("backoffice/rtl.css")],
    "SHOW_VIEW_ON_SITE": False,
    "DASHBOARD_CALLBACK": "backoffice.dashboard.dashboard_callback",
    "SIDEBAR": {
        "show_search": True,
        "show_all_applications": False,
        "navigation": "backoffice.navigation.sidebar",
    },
}
