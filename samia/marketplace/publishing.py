"""Which stored translations of a horoscope may be served, and whether it may be approved.

The i18n app knows which translations are machine-made and not approved yet; the kernel does not
import it. i18n registers its answer here in its AppConfig.ready() (`withheld_register`); without
one, every stored text is served as it is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.utils.translation import gettext_lazy as _

from samia.exceptions import Conflict

# (model label, field, ids) -> {(object id, language): status} of the translations not to serve.
Withheld = Callable[[str, str, list[int]], dict[tuple[int, str], str]]
_withheld: list[Withheld] = []

HOROSCOPE = "marketplace.Horoscope"
SOURCE_LANGUAGE = "en"


class TranslationUnreviewed(Conflict):
    """A language of the object is machine-translated and nobody has reviewed it (409)."""

    code = "translation_unreviewed"
    default_message = _("A translation of this horoscope is machine-made and not reviewed yet.")


def withheld_register(function: Withheld) -> None:
    """Let `function` say which translations are withheld (the i18n app registers one)."""
    _withheld[:] = [function]


def withheld(model: str, field: str, ids: list[int]) -> dict[tuple[int, str], str]:
    """Return {(id, language): status} of the stored translations of `ids` that must not be served."""
    if not _withheld or not ids:
        return {}
    return _withheld[0](model, field, ids)


def horoscopes_served(horoscopes: Iterable) -> list:
    """Return the horoscopes with each withheld translation replaced by the source text (in memory only)."""
    rows = list(horoscopes)
    hidden = withheld(HOROSCOPE, "text", [h.pk for h in rows])
    for horoscope in rows:
        for language in ("ar", "en"):
            if (horoscope.pk, language) in hidden and language != SOURCE_LANGUAGE:
                setattr(horoscope, f"text_{language}", getattr(horoscope, f"text_{SOURCE_LANGUAGE}"))
    return rows


def horoscope_approval_check(horoscope) -> None:
    """Raise TranslationUnreviewed while one of the horoscope's languages is auto-translated and unreviewed."""
    unreviewed = sorted(
        lang for (pk, lang), status in withheld(HOROSCOPE, "text", [horoscope.pk]).items() if status == "auto"
    )
    if unreviewed:
        raise TranslationUnreviewed(horoscope_id=horoscope.pk, languages=unreviewed)
