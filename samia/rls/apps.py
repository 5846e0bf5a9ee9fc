from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.module_loading import autodiscover_modules


class RlsConfig(AppConfig):
    name = "samia.rls"
    label = "rls"
    verbose_name = "Row-level security"

    def ready(self):
        autodiscover_modules("policies")
        # The one step every deploy, `make migrate` and test database pass through; a migration
        # cannot know each environment's key. Once per migrate (sender; models.py makes Django send it).
        from samia.rls.login import sync

        post_migrate.connect(sync, sender=self, dispatch_uid="samia.rls.login.sync")
