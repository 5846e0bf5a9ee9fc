from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class I18nConfig(AppConfig):
    name = "i18n"
    verbose_name = _("Translations")

    def ready(self):
        # The horoscope route serves the source text instead of an unapproved machine translation,
        # and approval waits for review (samia.marketplace.publishing asks; the kernel does not import i18n).
        from i18n import selectors
        from samia.accounts import languages
        from samia.marketplace import publishing

        publishing.withheld_register(selectors.withheld)
        # The SMS HELP reply's language (samia.accounts.languages; notifications does not import i18n).
        languages.phone_language_register(selectors.phone_language)
