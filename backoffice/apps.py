from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BackofficeConfig(AppConfig):
    name = "backoffice"
    verbose_name = _("Back office")

    def ready(self):
        from django.contrib import admin

        from backoffice import changelist

        changelist.install()

        # unfold's app config (earlier in INSTALLED_APPS) has made admin.site its own site by now.
        admin.site.index_template = "backoffice/dashboard.html"
