"""Notification delivery: the providers and their credentials, the dispatcher, SMS rules, tracking links, the keyring and circuits."""

from samia.settings.base import SECRET_KEY, env, required_secret

# Provider name -> adapter class (samia/providers). A provider missing here is unavailable:
# its sends stay deferred, never faked. Each adapter also reports itself unavailable while its
# credentials below are empty. NOTIFICATIONS_SANDBOX=1 (demos only) maps every channel to the
# recording sandbox instead, labelled "sandbox" wherever a send shows.
NOTIFICATIONS_SANDBOX = env.bool("NOTIFICATIONS_SANDBOX", default=False)
PROVIDERS: dict[str, str] = (
    {channel: "samia.providers.sandbox.SandboxProvider" for channel in ("fcm", "apns", "sms", "whatsapp")}
    if NOTIFICATIONS_SANDBOX
    else {
        "fcm": "samia.providers.fcm.FCMProvider",
        "apns": "samia.providers.apns.APNsProvider",
        "sms": "samia.providers.twilio.SMSProvider",
        "whatsapp": "samia.providers.twilio.WhatsAppProvider",
    }
)
# Machine translation (i18n, M27): not a notification channel, so the sandbox leaves it alone.
PROVIDERS["translation"] = "samia.providers.deepl.DeepLProvider"
# Notifications (M22). Quiet hours in each recipient's own timezone: nothing but critical
# transactional messages between START and END local time. SMS marketing never goes out before
# 08:00 or after 21:00 local, whatever is configured here.
NOTIFICATIONS_QUIET_START = env.str("NOTIFICATIONS_QUIET_START", default="21:00")
NOTIFICATIONS_QUIET_END = env.str("NOTIFICATIONS_QUIET_END", default="08:00")
# The daily zodiac push: this local time in each user's timezone, when the day's horoscope is approved.
NOTIFICATIONS_ZODIAC_LOCAL_TIME = env.str("NOTIFICATIONS_ZODIAC_LOCAL_TIME", default="09:00")
NOTIFICATIONS_ZODIAC_WINDOW_HOURS = env.int("NOTIFICATIONS_ZODIAC_WINDOW_HOURS", default=6)
# Dispatcher: sends claimed per batch, how long a claim holds, attempts before a send fails,
# retry backoff (capped exponential with full jitter) and the wait while a provider is unavailable.
NOTIFICATIONS_BATCH_SIZE = env.int("NOTIFICATIONS_BATCH_SIZE", default=100)
NOTIFICATIONS_LEASE_SECONDS = env.int("NOTIFICATIONS_LEASE_SECONDS", default=300)
NOTIFICATIONS_MAX_ATTEMPTS = env.int("NOTIFICATIONS_MAX_ATTEMPTS", default=5)
NOTIFICATIONS_BACKOFF_BASE_SECONDS = env.int("NOTIFICATIONS_BACKOFF_BASE_SECONDS", default=30)
NOTIFICATIONS_BACKOFF_CAP_SECONDS = env.int("NOTIFICATIONS_BACKOFF_CAP_SECONDS", default=3600)
NOTIFICATIONS_DEFER_SECONDS = env.int("NOTIFICATIONS_DEFER_SECONDS", default=300)
# Provider requests each dispatcher worker keeps in flight (async, on one event loop; the worker
# still uses one database connection whatever this is).
NOTIFICATIONS_SEND_CONCURRENCY = env.int("NOTIFICATIONS_SEND_CONCURRENCY", default=200)
# Provider rate limits shared by every worker (token buckets in Redis): bucket=N/s or N/m, e.g.
# "fcm=600000/m,twilio:sms=100/s". Buckets: fcm, apns, twilio (the account), twilio:sms,
# twilio:whatsapp, twilio:<Messaging Service SID>, twilio:<WhatsApp sender>.
NOTIFICATIONS_RATE_LIMITS = env.dict("NOTIFICATIONS_RATE_LIMITS", default={"fcm": "600000/m"})
# Scheduling a campaign: from NOTIFICATIONS_SCHEDULE_SPLIT_USERS users (the planner's estimate of the
# users table), its sends are planned in ranges of users on NOTIFICATIONS_SCHEDULE_CONNECTIONS
# connections at once, one core each (notifications/planning.py); 1 plans on the caller's alone.
NOTIFICATIONS_SCHEDULE_CONNECTIONS = env.int("NOTIFICATIONS_SCHEDULE_CONNECTIONS", default=2)
NOTIFICATIONS_SCHEDULE_SPLIT_USERS = env.int("NOTIFICATIONS_SCHEDULE_SPLIT_USERS", default=100_000)
# From NOTIFICATIONS_SCHEDULE_JOB_USERS users (the same estimate) the API and the back office do not
# schedule inside the request: they queue the Celery job notifications.schedule_campaign, bound as the
# same admin, and answer 202 (a web request ends after gunicorn's 30 s; a large schedule may not).
NOTIFICATIONS_SCHEDULE_JOB_USERS = env.int("NOTIFICATIONS_SCHEDULE_JOB_USERS", default=100_000)
# How long a split schedule waits for a row lock before it gives up and rolls back (a deadlock through
# another transaction would otherwise go unseen: the connections wait for each other in Python).
NOTIFICATIONS_SCHEDULE_LOCK_TIMEOUT_SECONDS = env.int("NOTIFICATIONS_SCHEDULE_LOCK_TIMEOUT_SECONDS", default=30)
# How long one dispatcher run keeps claiming batches before it hands over to the next tick.
NOTIFICATIONS_DISPATCH_BUDGET_SECONDS = env.int("NOTIFICATIONS_DISPATCH_BUDGET_SECONDS", default=50)
# WhatsApp outside the 24-hour customer-service window: the approved template (content SID) per
# notification kind, e.g. "order.delivered=HX...,order.assigned=HX..."; a kind without one fails there.
NOTIFICATIONS_WHATSAPP_TEMPLATES = env.dict("NOTIFICATIONS_WHATSAPP_TEMPLATES", default={})
# Order updates (order assigned, delivered, refunded ...) go to these channels; kinds listed as
# critical may go out in quiet hours (none by default: a delivered reading can wait for morning).
NOTIFICATIONS_ORDER_UPDATE_CHANNELS = env.list("NOTIFICATIONS_ORDER_UPDATE_CHANNELS", default=["push"])
NOTIFICATIONS_CRITICAL_KINDS = env.list("NOTIFICATIONS_CRITICAL_KINDS", default=[])
# Keyed hashes of phone numbers and device tokens (suppressions, conversation windows).
# Required unless DEBUG (ops_config_check: no secret has a production default); a deployment that ran
# without it sets "address:<its SECRET_KEY>", the value it had (OPS_README.md, "Upgrading").
NOTIFICATIONS_ADDRESS_KEY = required_secret("NOTIFICATIONS_ADDRESS_KEY", debug_default=f"address:{SECRET_KEY}")
# Signed tracking links: "kid=secret,kid2=secret2"; new links use NOTIFICATIONS_LINK_KEY_ID. Required
# unless DEBUG (which derives k0 from SECRET_KEY): rotating SECRET_KEY must not void every link.
NOTIFICATIONS_LINK_KEYS = {
    key_id: required_secret("NOTIFICATIONS_LINK_KEYS", debug_default=f"links:{SECRET_KEY}", value=secret)
    for key_id, secret in (env.dict("NOTIFICATIONS_LINK_KEYS", default={}) or {"k0": ""}).items()
}
NOTIFICATIONS_LINK_KEY_ID = env.str("NOTIFICATIONS_LINK_KEY_ID", default="k0")
NOTIFICATIONS_LINK_TTL_DAYS = env.int("NOTIFICATIONS_LINK_TTL_DAYS", default=30)
# The consent wording version recorded with each opt-in and opt-out.
NOTIFICATIONS_CONSENT_TEXT_VERSION = env.str("NOTIFICATIONS_CONSENT_TEXT_VERSION", default="2026-11")
# What a HELP keyword is answered with (no personal data).
NOTIFICATIONS_HELP_TEXT = env.str(
    "NOTIFICATIONS_HELP_TEXT",
    default="SAMIA: reading updates and offers. Reply STOP to unsubscribe, START to resubscribe.",
)
# The sender name every marketing text, first text to a number and opt-in confirmation carries.
NOTIFICATIONS_BRAND = env.str("NOTIFICATIONS_BRAND", default="SAMIA")
# The variable of the approved WhatsApp templates that receives that footer (e.g. {{footer}}).
NOTIFICATIONS_WHATSAPP_FOOTER_VARIABLE = env.str("NOTIFICATIONS_WHATSAPP_FOOTER_VARIABLE", default="footer")
# Process a verified webhook right after its request commits (the minute job is the safety net).
NOTIFICATIONS_INBOX_ON_COMMIT = env.bool("NOTIFICATIONS_INBOX_ON_COMMIT", default=True)
# Processed webhooks are kept this long (replay protection lasts as long).
NOTIFICATIONS_INBOX_RETENTION_DAYS = env.int("NOTIFICATIONS_INBOX_RETENTION_DAYS", default=90)
# Seconds any provider call may take before it is abandoned (connect + read).
PROVIDER_TIMEOUT_SECONDS = env.float("PROVIDER_TIMEOUT_SECONDS", default=10.0)
# Connections each async provider client (FCM, Twilio) may open per process (HTTP/1.1: one per request in flight).
PROVIDER_MAX_CONNECTIONS = env.int("PROVIDER_MAX_CONNECTIONS", default=256)
# FCM HTTP v1: the project and its service account key (the JSON file's text).
FCM_PROJECT_ID = env.str("FCM_PROJECT_ID", default="")
FCM_SERVICE_ACCOUNT_JSON = env.str("FCM_SERVICE_ACCOUNT_JSON", default="")
FCM_END_POINT_BASE = env.str("FCM_END_POINT_BASE", default="https://fcm.googleapis.com")
# APNs token auth: the .p8 key as PEM text, its key id, the team and the app's bundle id (topic).
APNS_KEY_PEM = env.str("APNS_KEY_PEM", default="", multiline=True)  # "\n" in .env becomes a newline
APNS_KEY_ID = env.str("APNS_KEY_ID", default="")
APNS_TEAM_ID = env.str("APNS_TEAM_ID", default="")
APNS_TOPIC = env.str("APNS_TOPIC", default="")
APNS_USE_SANDBOX = env.bool("APNS_USE_SANDBOX", default=False)
# Tests only: another APNs host/port and a CA file that trusts it.
APNS_HOST = env.str("APNS_HOST", default="")
APNS_PORT = env.int("APNS_PORT", default=443)
APNS_CA_FILE = env.str("APNS_CA_FILE", default="")
# Twilio SMS and WhatsApp through one Messaging Service.
TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env.str("TWILIO_AUTH_TOKEN", default="")
TWILIO_MESSAGING_SERVICE_SID = env.str("TWILIO_MESSAGING_SERVICE_SID", default="")
TWILIO_WHATSAPP_FROM = env.str("TWILIO_WHATSAPP_FROM", default="")
# Tests only: another Twilio API base (e.g. http://127.0.0.1:PORT).
TWILIO_API_BASE = env.str("TWILIO_API_BASE", default="")
# DeepL (i18n): the API key and, for tests or a proxy, the server URL (empty: chosen from the key).
DEEPL_AUTH_KEY = env.str("DEEPL_AUTH_KEY", default="")
DEEPL_SERVER_URL = env.str("DEEPL_SERVER_URL", default="")
# The public origin (scheme://host) that Twilio signs webhook URLs with; correct behind a proxy.
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://localhost:8000")

# Keyring (samia/secrets, OPS_README.md): Fernet keys, comma-separated; the first encrypts, every one
# decrypts (`manage.py secrets_rewrap` after putting a new one first). Unset, the keyring holds the
# environment values read-only and rotation answers 503 secrets_unavailable.
SECRETS_MASTER_KEYS = env.list("SECRETS_MASTER_KEYS", default=[])
# ops.secrets_rotate_due (daily) rotates a generated key whose active version is older than this.
SECRETS_ROTATE_JWT_DAYS = env.int("SECRETS_ROTATE_JWT_DAYS", default=90)
SECRETS_ROTATE_LINKS_DAYS = env.int("SECRETS_ROTATE_LINKS_DAYS", default=90)
SECRETS_ROTATE_STORAGE_DAYS = env.int("SECRETS_ROTATE_STORAGE_DAYS", default=30)
SECRETS_ROTATE_AUDIT_DAYS = env.int("SECRETS_ROTATE_AUDIT_DAYS", default=365)
# How long signed storage URLs made with the previous key still open after a rotation (their longest life).
SECRETS_STORAGE_URL_GRACE_SECONDS = env.int("SECRETS_STORAGE_URL_GRACE_SECONDS", default=3600)
# Provider circuit breakers (shared by every process through Redis): this many counted failures
# in a row open a provider's circuit for PROVIDER_BREAKER_RESET_SECONDS, then one call tries it.
PROVIDER_BREAKER_FAIL_MAX = env.int("PROVIDER_BREAKER_FAIL_MAX", default=5)
PROVIDER_BREAKER_RESET_SECONDS = env.int("PROVIDER_BREAKER_RESET_SECONDS", default=60)
