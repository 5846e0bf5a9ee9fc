from django.apps import AppConfig


class FeaturesConfig(AppConfig):
    name = "samia.features"
    label = "features"
    verbose_name = "Features"
