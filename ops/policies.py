"""Who reads and changes provider switches, probes and rotations."""

from samia.rls.conditions import Always, Mine
from samia.rls.registry import ADMINS, STAFF, allow, declare

# The rows (the free-text reason, who switched) are for staff; admins switch. Any request may still
# ask whether a provider is on (registry.get() in a request): `samia.provider_enabled(name)` (ops/sql.py)
# answers that boolean alone (review finding S5).
PROVIDER_STATES = declare(
    "ops.ProviderState",
    allow("select", STAFF),
    allow("insert", ADMINS, check=Mine("changed_by_id")),
    allow("update", ADMINS, using=Always(), check=Mine("changed_by_id")),
    module=__name__,
)
# Written by the probe job (owner role); admins read them.
PROVIDER_PROBES = declare("ops.ProviderProbe", allow("select", ADMINS), module=__name__)
# Admins rotate the keys they may (jwt and audit_signing: superadmins; checked by the service).
SECRET_ROTATIONS = declare(
    "ops.SecretRotation",
    allow("select", ADMINS),
    allow("insert", ADMINS, check=Mine("rotated_by_id")),
    module=__name__,
)
