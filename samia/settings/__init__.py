"""Django settings for SAMIA-TAROT, read from the environment (see .env.example).

One module per concern, each under the line limit: `base` (the project and the kernel), `providers`
(notification delivery, provider credentials, the keyring), `apps` (the milestone apps' own). Every
variable read anywhere here is documented in .env.example (`manage.py ops_config_check` checks it).
"""

from samia.settings.apps import *  # noqa: F403
from samia.settings.base import *  # noqa: F403
from samia.settings.providers import *  # noqa: F403
