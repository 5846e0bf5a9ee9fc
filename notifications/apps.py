from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("Notifications")

    def ready(self):
        # Budget alerts and incident pages reach staff through notify(); the kernel does not import this app.
        from notifications import services
        from samia import staff_notices

        staff_notices.sender_register(services.notify)
