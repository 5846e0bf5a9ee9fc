"""Tropical zodiac signs and the sign of a date of birth."""

import datetime as dt

from django.db import models
from django.utils.translation import gettext_lazy as _


class Sign(models.TextChoices):
    ARIES = "aries", _("Aries")
    TAURUS = "taurus", _("Taurus")
    GEMINI = "gemini", _("Gemini")
    CANCER = "cancer", _("Cancer")
    LEO = "leo", _("Leo")
    VIRGO = "virgo", _("Virgo")
    LIBRA = "libra", _("Libra")
    SCORPIO = "scorpio", _("Scorpio")
    SAGITTARIUS = "sagittarius", _("Sagittarius")
    CAPRICORN = "capricorn", _("Capricorn")
    AQUARIUS = "aquarius", _("Aquarius")
    PISCES = "pisces", _("Pisces")


# Each sign's name in Arabic (the English name is the choice label).
ARABIC_NAMES = {
    Sign.ARIES: "الحمل",
    Sign.TAURUS: "الثور",
    Sign.GEMINI: "الجوزاء",
    Sign.CANCER: "السرطان",
    Sign.LEO: "الأسد",
    Sign.VIRGO: "العذراء",
    Sign.LIBRA: "الميزان",
    Sign.SCORPIO: "العقرب",
    Sign.SAGITTARIUS: "القوس",
    Sign.CAPRICORN: "الجدي",
    Sign.AQUARIUS: "الدلو",
    Sign.PISCES: "الحوت",
}


def sign_name(sign: str, language: str) -> str:
    """Return the name of `sign` in `language` ("ar" or "en")."""
    return ARABIC_NAMES[Sign(sign)] if language == "ar" else Sign(sign).label


# (month, first day) on which each sign begins, in calendar order.
_STARTS = [
    ((1, 20), Sign.AQUARIUS),
    ((2, 19), Sign.PISCES),
    ((3, 21), Sign.ARIES),
    ((4, 20), Sign.TAURUS),
    ((5, 21), Sign.GEMINI),
    ((6, 21), Sign.CANCER),
    ((7, 23), Sign.LEO),
    ((8, 23), Sign.VIRGO),
    ((9, 23), Sign.LIBRA),
    ((10, 23), Sign.SCORPIO),
    ((11, 22), Sign.SAGITTARIUS),
    ((12, 22), Sign.CAPRICORN),
]


def sign_for(date: dt.date) -> Sign:
    """Return the zodiac sign of a birth date."""
    sign = Sign.CAPRICORN  # 22 Dec .. 19 Jan wraps around the new year
    for start, candidate in _STARTS:
        if (date.month, date.day) >= start:
            sign = candidate
    return sign
