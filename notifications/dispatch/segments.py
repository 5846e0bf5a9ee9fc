"""How many SMS segments a text costs, and in which encoding (3GPP TS 23.038 / 23.040).

A text that fits the GSM 03.38 alphabet goes as GSM-7: 160 septets in one message, 153 per part
when concatenated (the user data header takes 7); a character of the extension table (`€ [ ] { }
\\ ^ ~ |` and form feed) costs two septets, an escape and the character. Anything else (Arabic,
most emoji, `ç`) makes the whole text UCS-2: 70 UTF-16 code units, 67 per part; a character
outside the Basic Multilingual Plane (most emoji) is a surrogate pair and costs two. A character
is never split across two parts, so a part may hold one unit less. The alphabet comes from the
`gsm0338` codec, read once into a table (a lone escape character is not text: UCS-2); the
arithmetic is ours.
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


def _gsm_alphabet() -> dict[str, int]:
    """Every character the codec encodes, with its cost in septets (read once from its tables)."""
    candidates = set()
    for code in range(128):
        for raw in (bytes([code]), bytes([0x1B, code])):
            try:
                candidates.add(raw.decode("gsm03.38"))
            except UnicodeDecodeError:
                continue
    costs = {}
    for character in candidates:
        try:
            costs[character] = len(character.encode("gsm03.38"))
        except UnicodeEncodeError:
            continue
    return {character: cost for character, cost in costs.items() if len(character) == 1}


# The codec encodes a character at a time in Python; a table lookup keeps the dispatcher fast.
GSM_COSTS = _gsm_alphabet()


def measure(text: str) -> Measure:
    """Return the encoding, segment count and length in units of `text` as one SMS."""
    costs = [GSM_COSTS.get(character) for character in text]
    encoding = GSM7
    if None in costs:
        encoding = UCS2
        costs = [2 if ord(character) > 0xFFFF else 1 for character in text]
    units = sum(costs)
    if units <= SINGLE[encoding]:
        return Measure(encoding, 1, units)
    if units == len(text):  # every character costs one unit: no character can straddle a boundary
        return Measure(encoding, math.ceil(units / PART[encoding]), units)
    segments, used = 1, 0
    for cost in costs:
        if used + cost > PART[encoding]:
            segments, used = segments + 1, 0
        used += cost
    return Measure(encoding, segments, units)
