"""Benchmark only: samia.settings with requests bound as the service role (no SET ROLE)."""

from samia.settings import *  # noqa: F403
from samia.settings import MIDDLEWARE

MIDDLEWARE = [
    "bench.service_role.ServiceRoleMiddleware" if m == "samia.rls.middleware.RowLevelSecurityMiddleware" else m
    for m in MIDDLEWARE
]
