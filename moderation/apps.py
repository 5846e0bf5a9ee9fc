from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ModerationConfig(AppConfig):
    name = "moderation"
    verbose_name = _("Moderation")

    def ready(self):
        # The login tells a blocked user which block it is and whether they may appeal it
        # (samia.accounts.backends asks; the kernel does not import moderation).
        from moderation import selectors
        from samia.accounts import backends

        backends.block_describer_register(selectors.block_in_force)
