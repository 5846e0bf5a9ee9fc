"""Who may see and change the feature switches (django-waffle's tables)."""

from samia.rls.registry import ADMINS, PUBLIC, allow, declare

SWITCHES_TABLE = "waffle_switch"

# Whether a feature is on is no secret: anyone reads switches (the API's gate reads them through
# samia.feature_on anyway). Admins turn them on and off, through features.services.feature_set.
SWITCHES = declare(
    "waffle.Switch",
    allow("select", PUBLIC),
    allow("insert", ADMINS),
    allow("update", ADMINS),
    module=__name__,
)

# Flags and samples (per-user and percentage rollouts) are not used yet: admins only.
FLAGS = declare(
    "waffle.Flag",
    allow("select", ADMINS),
    allow("insert", ADMINS),
    allow("update", ADMINS),
    allow("delete", ADMINS),
    module=__name__,
)
FLAG_GROUPS = declare(
    "waffle.Flag_groups",
    allow("select", ADMINS),
    allow("insert", ADMINS),
    allow("delete", ADMINS),
    module=__name__,
)
FLAG_USERS = declare(
    "waffle.Flag_users",
    allow("select", ADMINS),
    allow("insert", ADMINS),
    allow("delete", ADMINS),
    module=__name__,
)
SAMPLES = declare(
    "waffle.Sample",
    allow("select", ADMINS),
    allow("insert", ADMINS),
    allow("update", ADMINS),
    allow("delete", ADMINS),
    module=__name__,
)
