"""Arabic: Django's locale gives dates ("j F، Y") and times ("g:i A") but no date with a time, which then
falls back to the English pattern ("N j, Y, P": "ديسمبر 7, 2026"). The same parts, in the same order, here."""

DATE_FORMAT = "j F، Y"
TIME_FORMAT = "g:i A"
DATETIME_FORMAT = "j F، Y، g:i A"
SHORT_DATE_FORMAT = "d\u200f/m\u200f/Y"
SHORT_DATETIME_FORMAT = "d\u200f/m\u200f/Y g:i A"
