from django.apps import AppConfig


class FeaturesConfig(AppConfig):
    name = "samia.features"
    label = "features"
    verbose_name = "Features"

    def ready(self):
        from django.contrib import admin
        from waffle.models import Flag, Sample, Switch

        # Switches change through features.services.feature_set (audited), never through waffle's own
        # admin pages, which would flip one without an audit entry or a reason.
        for model in (Flag, Sample, Switch):
            if admin.site.is_registered(model):
                admin.site.unregister(model)
