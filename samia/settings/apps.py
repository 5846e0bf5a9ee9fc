"""The milestone apps' own settings: moderation, events, analytics, personalization, SRE and cost guards, community."""

from samia.settings.base import BASE_DIR, REDIS_URL, SECRET_KEY, TRUSTED_PROXIES, env, required_secret

# Moderation records (cases, actions, lineage) and appeals are purged this long after they
# are over (resolved, lifted or expired, decided).
MODERATION_RETENTION_DAYS = env.int("MODERATION_RETENTION_DAYS", default=730)
APPEALS_RETENTION_DAYS = env.int("APPEALS_RETENTION_DAYS", default=730)

# Raw events are kept this many days (whole monthly partitions are dropped); aggregates live longer.
EVENTS_RAW_RETENTION_DAYS = env.int("EVENTS_RAW_RETENTION_DAYS", default=180)
# Key of the keyed hash that stands in for callers without an account; defaults to SECRET_KEY.
# Required unless DEBUG; a deployment that ran without it sets its SECRET_KEY here (OPS_README.md, "Upgrading").
EVENTS_HASH_KEY = required_secret("EVENTS_HASH_KEY", debug_default=SECRET_KEY)
# Engagement reports (POST /me/sessions, POST /horoscopes/{id}/listen) a caller may make per minute
# (per user; per address for callers without an account).
EVENTS_REQUESTS_PER_MINUTE = env.int("EVENTS_REQUESTS_PER_MINUTE", default=60)

# Analytics (M23): days are cut in this business time zone; the nightly rollup recomputes the
# last ANALYTICS_LATE_DAYS days for late events; aggregates are kept longer than raw events.
ANALYTICS_TIMEZONE = env.str("ANALYTICS_TIMEZONE", default="Asia/Riyadh")
ANALYTICS_LATE_DAYS = env.int("ANALYTICS_LATE_DAYS", default=3)
ANALYTICS_AGGREGATE_RETENTION_DAYS = env.int("ANALYTICS_AGGREGATE_RETENTION_DAYS", default=1100)
ANALYTICS_LISTEN_THROUGH_PERCENT = env.int("ANALYTICS_LISTEN_THROUGH_PERCENT", default=90)
# TTF percentiles are exact up to this many durations per query; above it, an admin's query not
# grouped by reader reads the bucketed histogram instead (within 2% of the exact value, much faster).
ANALYTICS_EXACT_PERCENTILE_LIMIT = env.int("ANALYTICS_EXACT_PERCENTILE_LIMIT", default=20000)
# Connections a rollup run outside a transaction uses: 2 runs the activity half (sessions, DAU/WAU/MAU,
# retention) alongside the rest, each committing only if both succeed; 1 runs everything on one.
ANALYTICS_ROLLUP_CONNECTIONS = env.int("ANALYTICS_ROLLUP_CONNECTIONS", default=2)

# Personalization (M25): the model kind served (bm25: item-kNN with BM25 weights; als), how far back
# the nightly job reads interactions, the offline evaluation's hold-out days, the fewest users a
# cohort needs before its own popularity is used (else the country's, else everyone's), and how
# long the ranking log is kept.
PERSONALIZATION_MODEL_KIND = env.str("PERSONALIZATION_MODEL_KIND", default="bm25")
PERSONALIZATION_HISTORY_DAYS = env.int("PERSONALIZATION_HISTORY_DAYS", default=365)
PERSONALIZATION_HOLDOUT_DAYS = env.int("PERSONALIZATION_HOLDOUT_DAYS", default=7)
PERSONALIZATION_COHORT_MIN_USERS = env.int("PERSONALIZATION_COHORT_MIN_USERS", default=20)
PERSONALIZATION_LOG_RETENTION_DAYS = env.int("PERSONALIZATION_LOG_RETENTION_DAYS", default=90)

# SRE and cost guards (M29, SRE_COST_README.md). Route limits: burst and sustained sliding-window
# counters in Redis per user (per client address when anonymous) and route, keyed "METHOD url-name".
# The routes listed besides "default" are costly: tighter, and their writes answer 503
# limiter_unavailable while the limiter's Redis is down (every other request is let through).
SRE_RATE_LIMITS = {
    "default": {
        "user": env.str("SRE_RATE_USER", default="20/second;600/minute"),
        "ip": env.str("SRE_RATE_IP", default="10/second;200/minute"),
    },
    "POST order-list": {"user": "2/second;20/minute", "ip": "1/second;10/minute"},
    "POST community-comments": {"user": "2/second;30/minute", "ip": "1/second;10/minute"},
    "POST ar-admin-assets": {"user": "1/second;30/minute", "ip": "1/second;10/minute"},
    "POST i18n-translate": {"user": "1/second;10/minute", "ip": "1/second;5/minute"},
    "POST personalization-recommend": {"user": "5/second;60/minute", "ip": "2/second;30/minute"},
}
# Routes the limiter never counts: the login has its own failed-login limiter; Twilio retries its webhooks.
SRE_RATE_EXEMPT = ["auth-token", "notifications-twilio-status", "notifications-twilio-inbound"]
# Daily quotas per user and UTC day on a route; `count` names the request field whose items each count
# one (the objects of a translation batch), otherwise a request counts one. Refused requests give theirs back.
SRE_QUOTAS = {
    "orders": {"route": "POST order-list", "limit": env.int("SRE_QUOTA_ORDERS", default=20)},
    "comments": {"route": "POST community-comments", "limit": env.int("SRE_QUOTA_COMMENTS", default=50)},
    "translate_fields": {
        "route": "POST i18n-translate",
        "limit": env.int("SRE_QUOTA_TRANSLATE_FIELDS", default=5000),
        "count": "ids",
    },
}
# Proxies whose X-Forwarded-For the route limiter believes (same rule as the login's TRUSTED_PROXIES).
SRE_TRUSTED_PROXIES = env.list("SRE_TRUSTED_PROXIES", default=TRUSTED_PROXIES)
# The limiter's Redis (the shared one by default); it fails fast when Redis does not answer.
SRE_LIMITER_REDIS_URL = env.str("SRE_LIMITER_REDIS_URL", default=REDIS_URL)
SRE_LIMITER_TIMEOUT_SECONDS = env.float("SRE_LIMITER_TIMEOUT_SECONDS", default=0.25)
# GET /ops/prometheus wants "Authorization: Bearer <this>"; empty, the scrape answers 503.
SRE_PROMETHEUS_TOKEN = env.str("SRE_PROMETHEUS_TOKEN", default="")
# Tracing (OpenTelemetry: Django, psycopg, Celery) is on only when an OTLP endpoint is set.
OTEL_EXPORTER_OTLP_ENDPOINT = env.str("OTEL_EXPORTER_OTLP_ENDPOINT", default="")
# Health overview thresholds: worker heartbeat age and queue depth that warn and fail.
SRE_HEARTBEAT_WARN_SECONDS = env.int("SRE_HEARTBEAT_WARN_SECONDS", default=180)
SRE_HEARTBEAT_FAIL_SECONDS = env.int("SRE_HEARTBEAT_FAIL_SECONDS", default=900)
SRE_QUEUE_WARN = env.int("SRE_QUEUE_WARN", default=100)
SRE_QUEUE_FAIL = env.int("SRE_QUEUE_FAIL", default=1000)
# Backups: pg_dump -Fc files here, 7 daily and 12 monthly kept; a backup older than this many hours
# or a restore drill older than this many days makes the health overview warn.
SRE_BACKUP_DIR = env.str("SRE_BACKUP_DIR", default=str(BASE_DIR / "var" / "backups"))
SRE_BACKUP_KEEP_DAILY = env.int("SRE_BACKUP_KEEP_DAILY", default=7)
SRE_BACKUP_KEEP_MONTHLY = env.int("SRE_BACKUP_KEEP_MONTHLY", default=12)
SRE_BACKUP_MAX_AGE_HOURS = env.int("SRE_BACKUP_MAX_AGE_HOURS", default=26)
SRE_RESTORE_DRILL_MAX_AGE_DAYS = env.int("SRE_RESTORE_DRILL_MAX_AGE_DAYS", default=8)

# Community (M24): authors appear as member-<HMAC(key, user id)[:8]>. A pseudonym, not a credential:
# never rotate it (every handle would change); production sets its own (see .env.example).
COMMUNITY_HANDLE_KEY = required_secret("COMMUNITY_HANDLE_KEY", debug_default=f"community-handles:{SECRET_KEY}")
