from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class EventsConfig(AppConfig):
    name = "samia.events"
    label = "events"
    verbose_name = "Events"

    def ready(self):
        autodiscover_modules("event_schemas")
