from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommunityConfig(AppConfig):
    name = "community"
    verbose_name = _("Community")

    def ready(self):
        # An appeal's overturn restores a hidden or removed comment, and the case page shows a
        # community case's comments: moderation asks its registry, it never imports community.
        from community import moderation_targets

        moderation_targets.register()
