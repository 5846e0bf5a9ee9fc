from modeltranslation.translator import TranslationOptions, register

from samia.marketplace.models import Horoscope, Service


@register(Horoscope)
class HoroscopeTranslation(TranslationOptions):
    fields = ("text",)
    required_languages = ("en", "ar")


# Admin-edited, translated in the back office or by the reviewed pipeline (i18n/); English is the source.
@register(Service)
class ServiceTranslation(TranslationOptions):
    fields = ("name",)
    required_languages = ("en",)
