"""Masking: what the provider must not translate travels as `<x id="n"/>` and comes back as it was.

Before a text goes out, protected glossary terms and placeholders (`{order}`, `%(name)s`, `%s`,
and whole ICU messages such as `{count, plural, one {# day} other {# days}}`) become empty `x`
elements numbered in order, and the rest is XML-escaped (the text is sent with tag_handling=xml,
ignore_tags=["x"]). After, every tag must come back exactly once, and no other tag may appear:
a missing, repeated, unknown or changed tag rejects the item (`placeholder_mismatch`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from xml.sax.saxutils import escape, unescape

# A simple placeholder, or the head of an ICU argument whose body is matched brace by brace.
_PLACEHOLDER = r"%\(\w+\)[sdifr]|%[sdif]|\{\w+\}"
_ICU_HEAD = r"\{\s*\w+\s*,\s*(?:plural|select|selectordinal)\s*,"
_TAG = re.compile(r"<[^>]*>")
_X = re.compile(r'<x\s+id="(\d+)"\s*/>')
_ENTITIES = {"&quot;": '"', "&apos;": "'"}


class PlaceholderMismatch(ValueError):
    """The provider lost, repeated, altered or added a tag: the translation cannot be restored."""


@dataclass(frozen=True)
class Masked:
    text: str  # what the provider receives
    spans: tuple[str, ...]  # the original text of <x id="0"/>, <x id="1"/>, ...


class Masker:
    """Mask and restore texts of one source language against one glossary (built once per batch)."""

    def __init__(self, protected_terms: list[str] = ()):
        terms = sorted({t for t in protected_terms if t}, key=len, reverse=True)  # longest first
        alternatives = [_ICU_HEAD, _PLACEHOLDER] + [rf"(?<!\w){re.escape(t)}(?!\w)" for t in terms]
        self._pattern = re.compile("|".join(f"(?:{a})" for a in alternatives))
        self._icu = re.compile(_ICU_HEAD)

    def mask(self, text: str) -> Masked:
        """Return `text` with its protected spans as numbered `x` tags and the rest XML-escaped."""
        out, spans, position = [], [], 0
        search = self._pattern.search
        while (match := search(text, position)) is not None:
            start, end = match.span()
            if self._icu.match(text, start):
                end = _closing_brace(text, start)
                if end is None:  # an unbalanced ICU message is left as text
                    position = match.end()
                    continue
            out.append(escape(text[position:start]))
            out.append(f'<x id="{len(spans)}"/>')
            spans.append(text[start:end])
            position = end
        out.append(escape(text[position:]))
        return Masked("".join(out), tuple(spans))

    @staticmethod
    def restore(translated: str, masked: Masked) -> str:
        """Return the translation with every span back in place; raise PlaceholderMismatch otherwise."""
        out, seen, position = [], [], 0
        for tag in _TAG.finditer(translated):
            x = _X.fullmatch(tag.group(0))
            if x is None:
                raise PlaceholderMismatch("unexpected tag")
            number = int(x.group(1))
            if number >= len(masked.spans) or number in seen:
                raise PlaceholderMismatch("unknown or repeated tag")
            seen.append(number)
            out.append(unescape(translated[position : tag.start()], _ENTITIES))
            out.append(masked.spans[number])
            position = tag.end()
        if len(seen) != len(masked.spans):
            raise PlaceholderMismatch("missing tag")
        out.append(unescape(translated[position:], _ENTITIES))
        return "".join(out)


def _closing_brace(text: str, start: int) -> int | None:
    """The index after the brace closing the one at `start`, or None when it never closes."""
    depth = 0
    for index in range(start, len(text)):
        character = text[index]
        if character == "{":
            depth += 1
        elif character == "}":
            depth -= 1
            if depth == 0:
                return index + 1
    return None


class GlossaryCheck:
    """Whether a translation kept the glossary: each source term present must come out as its target term."""

    def __init__(self, pairs: list[tuple[str, str]]):
        self._targets = {term.casefold(): target.casefold() for term, target in pairs if term and target}
        terms = sorted(self._targets, key=len, reverse=True)
        self._pattern = re.compile(rf"(?<!\w)(?:{'|'.join(map(re.escape, terms))})(?!\w)") if terms else None

    def missed(self, source: str, translated: str) -> bool:
        """True when a term of `source` is in the glossary but its target term is not in `translated`."""
        if self._pattern is None:
            return False
        found = {match.group(0) for match in self._pattern.finditer(source.casefold())}
        folded = translated.casefold()
        return any(self._targets[term] not in folded for term in found)
