from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "ops"

    def ready(self) -> None:
        from ops import selectors
        from samia.providers import toggles

        toggles.register_loader(selectors.provider_enabled)
