"""How many SMS segments a text costs, and in which encoding (3GPP TS 23.038 / 23.040).

A text that fits the GSM 03.38 alphabet goes as GSM-7: 160 septets in one message, 153 per part
when concatenated (the user data header takes 7); a character of the extension table (`€ [ ] { }
\\ ^ ~ |` and form feed) costs two septets, an escape and the character. Anything else (Arabic,
most emoji, `ç`) makes the whole text UCS-2: 70 UTF-16 code units, 67 per part; a character
outside the Basic Multilingual Plane (most emoji) is a surrogate pair and costs two. A character
is never split across two parts, so a part may hold one unit less. The alphabet comes from the
`gsm0338` codec; the arithmetic is ours.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import gsm0338  # noqa: F401  registers the "gsm03.38" codec

from notifications.models import Encoding

GSM7, UCS2 = Encoding.GSM7.value, Encoding.UCS2.value
SINGLE = {GSM7: 160, UCS2: 70}
PART = {GSM7: 153, UCS2: 67}


class Measure(NamedTuple):
    encoding: str
    segments: int
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)


def _cost(character: str, encoding: str) -> int:
    if encoding == GSM7:
        return len(character.encode("gsm03.38"))
    return len(character.encode("utf-16-le")) // 2


def measure(text: str) -> Measure:
    """Return the encoding, segment count and length in units of `text` as one SMS."""
    try:
        units = len(text.encode("gsm03.38"))
        encoding = GSM7
    except UnicodeEncodeError:
        units = len(text.encode("utf-16-le")) // 2
        encoding = UCS2
    if units <= SINGLE[encoding]:
        return Measure(encoding, 1, units)
    if units == len(text):  # every character costs one unit: no character can straddle a boundary
        return Measure(encoding, math.ceil(units / PART[encoding]), units)
    segments, used = 1, 0
    for character in text:
        cost = _cost(character, encoding)
        if used + cost > PART[encoding]:
            segments, used = segments + 1, 0
        used += cost
    return Measure(encoding, segments, units)
