from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeaturesConfig(AppConfig):
    name = "samia.features"
    label = "features"
    verbose_name = _("Features")
