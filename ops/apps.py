from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpsConfig(AppConfig):
    name = "ops"
    verbose_name = _("Provider operations")  # the back office's sidebar area

    def ready(self) -> None:
        from ops import selectors
        from samia.providers import toggles

        toggles.register_loader(selectors.provider_enabled)
