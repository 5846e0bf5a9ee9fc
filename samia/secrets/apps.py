from django.apps import AppConfig


class SecretsConfig(AppConfig):
    name = "samia.secrets"
    label = "secrets"

    def ready(self) -> None:
        from samia.secrets import tokens

        tokens.install()
