"""Strings that unfold and waffle show on our back-office pages but ship no Arabic for.

unfold 0.91 carries catalogs for a few languages, Arabic not among them, and waffle has none; Django
looks up every msgid in LOCALE_PATHS first, so marking the same English text here puts its Arabic
in locale/ar (makemessages keeps it because it is marked). Only what our pages can show is listed:
the core templates and widgets we use, and the switch model (flags and samples are not registered).
`tests/backoffice/test_arabic_labels.py` renders pages in Arabic and checks some of these.
"""

from django.utils.translation import gettext_noop

UNFOLD = [
    gettext_noop("All applications"),
    gettext_noop("Apply Filters"),
    gettext_noop("Choose file to upload"),
    gettext_noop("Click to cancel"),
    gettext_noop("Click to download"),
    gettext_noop("Dark"),
    gettext_noop("Date"),
    gettext_noop("Expand row"),
    gettext_noop("False"),
    gettext_noop("Filters"),
    gettext_noop("Forgotten your password or username?"),
    gettext_noop("General"),
    gettext_noop("Go back"),
    gettext_noop("Image preview"),
    gettext_noop("Light"),
    gettext_noop("Loading more results..."),
    gettext_noop("More actions"),
    gettext_noop("Next"),
    gettext_noop("No data"),
    gettext_noop("No recent searches"),
    gettext_noop("No results found"),
    gettext_noop("No results matching your query"),
    gettext_noop("Recent searches"),
    gettext_noop("Record picture"),
    gettext_noop("Reset filters"),
    gettext_noop("Return to site"),
    gettext_noop("Run"),
    gettext_noop("Search apps and models..."),
    gettext_noop("Select action"),
    gettext_noop("Select action to run"),
    gettext_noop("Select all rows"),
    gettext_noop("Select record"),
    gettext_noop("Select value"),
    gettext_noop("This item will be deleted."),
    gettext_noop("This page yielded into no results. Create a new item or reset your filters."),
    gettext_noop("Toggle password visibility"),
    gettext_noop("True"),
    gettext_noop("Type to search"),
    gettext_noop("Welcome"),
    gettext_noop("Welcome back to"),
    gettext_noop("You have been successfully logged out from the administration"),
]

# django-celery-beat ships no Arabic: its app and model names in the sidebar (the Jobs area).
CELERY_BEAT = [
    gettext_noop("Periodic Tasks"),
    gettext_noop("clocked"),
    gettext_noop("crontab"),
    gettext_noop("crontabs"),
    gettext_noop("interval"),
    gettext_noop("intervals"),
    gettext_noop("periodic task"),
    gettext_noop("periodic tasks"),
    gettext_noop("solar event"),
    gettext_noop("solar events"),
]

WAFFLE_SWITCH = [
    gettext_noop("Switch"),
    gettext_noop("Switches"),
    gettext_noop("Is this switch active?"),
    gettext_noop("Modified"),
    gettext_noop("The human/computer readable name."),
    gettext_noop("Note where this Switch is used."),
    gettext_noop("Date when this Switch was created."),
    gettext_noop("Date when this Switch was last modified."),
]
