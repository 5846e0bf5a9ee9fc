"""waffle's app under a name staff can read, in their language: its own is "django-waffle", a plain string
that no catalogue can translate. INSTALLED_APPS names this class instead of "waffle"; label, models and
migrations stay waffle's."""

import waffle.apps
from django.utils.translation import gettext_lazy as _


class WaffleConfig(waffle.apps.WaffleConfig):
    verbose_name = _("Feature switches")
