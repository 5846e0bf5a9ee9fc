"""Who may read and change accounts."""

from samia.rls.conditions import Mine, OneOf, Via
from samia.rls.registry import ADMINS, ROLES, STAFF, allow, declare, framework

USERS = declare(
    "accounts.User",
    # Everyone reads and edits their own profile; staff read every account; admins edit them.
    allow("select", ROLES, Mine("id")),
    allow("select", STAFF),
    allow("update", ROLES, Mine("id")),
    allow("update", ADMINS),
    # Monitors block clients and readers; the trigger lets them touch the restriction columns only.
    allow("update", "monitor", OneOf("role", ("client", "reader"))),
    # Only a superadmin creates staff accounts; admins create clients and readers (the guard trigger agrees).
    allow("insert", "admin", check=OneOf("role", ("client", "reader"))),
    allow("insert", "superadmin"),
    allow("delete", "superadmin"),
    module=__name__,
)

framework(
    "django_migrations",
    "Migration bookkeeping, no user data; /readyz reads it to report unapplied migrations.",
    grants=("select",),
    module=__name__,
)
framework(
    "django_content_type",
    "Model registry, no user data; the back office resolves models through it.",
    grants=("select",),
    module=__name__,
)
framework(
    "auth_permission",
    "Django's permission catalogue; unused (permissions come from the RLS declarations) and not granted.",
    module=__name__,
)
framework("auth_group", "Django's groups; unused (roles live on the user) and not granted.", module=__name__)
framework("auth_group_permissions", "Django's group permissions; unused and not granted.", module=__name__)

# The back office's own change log: staff write their entries, admins read everyone's.
ADMIN_LOG = declare(
    "admin.LogEntry",
    allow("insert", STAFF, check=Mine("user_id")),
    allow("select", STAFF, Mine("user_id")),
    allow("select", ADMINS),
    module=__name__,
)

# The second factor (django-otp). Each staff member reads and changes their own devices: the 2FA
# pages and the middleware run as the session's user, the API's login binds the account whose
# password matched before it checks the code. A superadmin resets another staff member's devices.
DEVICE_RULES = (
    allow("select", STAFF, Mine("user_id")),
    allow("insert", STAFF, check=Mine("user_id")),
    allow("update", STAFF, Mine("user_id")),
    allow("delete", STAFF, Mine("user_id")),
    allow("select", "superadmin"),
    allow("delete", "superadmin"),
)
TOTP_DEVICES = declare("otp_totp.TOTPDevice", *DEVICE_RULES, module=__name__)
STATIC_DEVICES = declare("otp_static.StaticDevice", *DEVICE_RULES, module=__name__)
MY_STATIC_DEVICES = Via("device_id", "otp_static_staticdevice", Mine("user_id"))
STATIC_TOKENS = declare(
    "otp_static.StaticToken",
    allow("select", STAFF, MY_STATIC_DEVICES),
    allow("insert", STAFF, check=MY_STATIC_DEVICES),
    allow("delete", STAFF, MY_STATIC_DEVICES),
    allow("select", "superadmin"),
    allow("delete", "superadmin"),
    module=__name__,
)
