from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext_lazy as _


class EventsConfig(AppConfig):
    name = "samia.events"
    label = "events"
    verbose_name = _("Events")

    def ready(self):
        autodiscover_modules("event_schemas")
