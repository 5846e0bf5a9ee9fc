from modeltranslation.translator import TranslationOptions, register

from moderation.models import ReasonCode


# Admin-edited, translated in the back office or by the reviewed pipeline (i18n/); English is the source.
@register(ReasonCode)
class ReasonCodeTranslation(TranslationOptions):
    fields = ("label",)
    required_languages = ("en",)
