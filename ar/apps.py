from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ArConfig(AppConfig):
    name = "ar"
    verbose_name = _("AR")

    def ready(self):
        # The signed download refuses a removed asset's object even if deleting it failed
        # (samia.storage asks; the kernel does not import ar).
        from ar import selectors
        from samia import storage

        storage.removed_check_register(selectors.key_removed)
