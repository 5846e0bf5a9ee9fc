from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class RlsConfig(AppConfig):
    name = "samia.rls"
    label = "rls"
    verbose_name = "Row-level security"

    def ready(self):
        autodiscover_modules("policies")
