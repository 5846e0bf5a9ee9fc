"""Changelist rendering without per-row template work that gives the same markup every time.

unfold 0.91's `items_for_result` rebuilds every column header, the "select all" checkbox's template
included, for each row it draws (it needs the header text as each cell's mobile label): 100 rows
cost 100 header builds, a third of a list page's time (measured at seed_demo --scale 400:
bench/RESULTS.md, "Back office"). The headers depend only on the changelist, so the first build is
kept on it and reused by the rows and by the header row. Its boolean cells render a template per
cell whose output depends only on true/false/unknown and the language: rendered once for each.
"""

import functools

from django.utils.translation import get_language
from unfold import utils
from unfold.templatetags import unfold_list

_ATTRIBUTE = "_backoffice_result_headers"


def result_headers_once(build):
    """Wrap unfold's `result_headers(cl)` so each changelist builds its headers once."""

    def result_headers(cl):
        headers = cl.__dict__.get(_ATTRIBUTE)
        if headers is None:
            headers = list(build(cl))
            setattr(cl, _ATTRIBUTE, headers)
        return iter(headers)

    result_headers.wrapped = build
    return result_headers


def boolean_icon_once(render):
    """Wrap unfold's `_boolean_icon(value)` so each of its three states renders once per language."""

    @functools.cache
    def rendered(state: bool | None, language: str | None) -> str:
        return render(state)

    def boolean_icon(value):
        return rendered(None if value in ("", None) else bool(value), get_language())

    boolean_icon.wrapped = render
    return boolean_icon


def install() -> None:
    """Replace unfold's per-row header and boolean rendering by their once-only forms (idempotent)."""
    if not hasattr(unfold_list.result_headers, "wrapped"):
        unfold_list.result_headers = result_headers_once(unfold_list.result_headers)
    if not hasattr(utils._boolean_icon, "wrapped"):
        utils._boolean_icon = boolean_icon_once(utils._boolean_icon)
