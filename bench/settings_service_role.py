"""Benchmark only: samia.settings with requests bound as the service role (no SET ROLE).

It logs in as the owner although samia/wsgi.py asks for the web login: samia_web alone can read nothing.
"""

from samia.settings import *  # noqa: F403
from samia.settings import DATABASE_OWNER, DATABASES, MIDDLEWARE

DATABASES = {
    "default": {**DATABASES["default"], "USER": DATABASE_OWNER["USER"], "PASSWORD": DATABASE_OWNER["PASSWORD"]}
}
MIDDLEWARE = [
    "bench.service_role.ServiceRoleMiddleware" if m == "samia.rls.middleware.RowLevelSecurityMiddleware" else m
    for m in MIDDLEWARE
]
