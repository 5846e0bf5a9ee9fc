"""Changelist rendering that does not grow with the square of the page: unfold's column headers once per page.

unfold 0.91's `items_for_result` rebuilds every column header, the "select all" checkbox's template
included, for each row it draws (it needs the header text as each cell's mobile label): 100 rows
cost 100 header builds, a third of a list page's time (measured at seed_demo --scale 400:
bench/RESULTS.md, "Back office"). The headers depend only on the changelist, so the first build is
kept on it and reused by the rows and by the header row.
"""

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


def install() -> None:
    """Replace unfold_list.result_headers by its once-per-changelist form (idempotent)."""
    if not hasattr(unfold_list.result_headers, "wrapped"):
        unfold_list.result_headers = result_headers_once(unfold_list.result_headers)
