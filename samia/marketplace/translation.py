from modeltranslation.translator import TranslationOptions, register

from samia.marketplace.models import Horoscope


@register(Horoscope)
class HoroscopeTranslation(TranslationOptions):
    fields = ("text",)
    required_languages = ("en", "ar")
