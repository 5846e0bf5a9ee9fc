"""The Prometheus metrics of the application (prometheus-client; multiprocess under gunicorn).

Golden signals: latency and traffic per route pattern and status class come from the request
middleware (`sre.middleware.RequestMetricsMiddleware`), errors are the 5xx class of the same
histogram, saturation gauges are filled at scrape time (`sre.signals.saturation_collect`).
"""

from prometheus_client import Counter, Gauge, Histogram

REQUEST_LATENCY = Histogram(
    "samia_http_request_duration_seconds",
    "Request latency per route pattern, method and status class.",
    ["route", "method", "status_class"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
LIMITER_DECISIONS = Counter("samia_limiter_decisions_total", "Route limiter decisions.", ["route", "decision"])
# Requests the limiter could not count (its Redis down): let through (reads) or refused (costly writes).
LIMITER_UNAVAILABLE = Counter("samia_limiter_unavailable_total", "Limiter outages seen by requests.", ["outcome"])
# Saturation, set at scrape time; multiprocess mode keeps the most recent value of any process.
DATABASE_CONNECTIONS = Gauge(
    "samia_database_connections",
    "Connections to the database server by state.",
    ["state"],
    multiprocess_mode="mostrecent",
)
DATABASE_CONNECTIONS_MAX = Gauge(
    "samia_database_connections_max", "The server's max_connections.", multiprocess_mode="mostrecent"
)
QUEUE_LENGTH = Gauge(
    "samia_celery_queue_length", "Tasks waiting in a Celery queue.", ["queue"], multiprocess_mode="mostrecent"
)
NOTIFICATIONS_DUE = Gauge(
    "samia_notifications_due_backlog", "Sends due now and not yet sent.", multiprocess_mode="mostrecent"
)
HEARTBEAT_AGE = Gauge(
    "samia_worker_heartbeat_age_seconds", "Seconds since a worker last proved it runs.", multiprocess_mode="mostrecent"
)
BUDGET_PERCENT = Gauge(
    "samia_budget_used_percent", "Month-to-date use of each budget.", ["metric"], multiprocess_mode="mostrecent"
)
