"""A campaign's message per language: form fields in, `templates` out, and the preview staff read."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.text import format_lazy
from django.utils.translation import get_language_info
from django.utils.translation import gettext_lazy as _
from unfold.widgets import UnfoldAdminTextareaWidget, UnfoldAdminTextInputWidget

from notifications import selectors
from notifications.models import Campaign, Channel
from samia.accounts.models import Language

LANGUAGES = [code for code, _name in settings.LANGUAGES]
TEXT_PARTS = ("title", "body")
WHATSAPP_PARTS = ("content_sid", "variables")
# What the preview shows as the message itself; anything else a preview returns is listed under it.
MESSAGE_KEYS = ("title", "body", "content_sid", "variables")


def language_name(code: str) -> str:
    return get_language_info(code)["name_local"]


def direction(code: str) -> str:
    return "rtl" if get_language_info(code)["bidi"] else "ltr"


def template_fields() -> dict[str, forms.Field]:
    """Title and body (WhatsApp: template SID and variables) for each of settings.LANGUAGES."""
    fields = {}
    for code in LANGUAGES:
        name = language_name(code)
        typed = {"dir": "auto", "lang": code}
        fields[f"title_{code}"] = forms.CharField(
            label=format_lazy("{} ({})", _("Title"), name),
            required=False,
            max_length=120,
            widget=UnfoldAdminTextInputWidget(attrs={**typed, "size": 60, "data-template-part": "title"}),
            help_text=_("Push needs one; SMS sends it as the first line."),
        )
        fields[f"body_{code}"] = forms.CharField(
            label=format_lazy("{} ({})", _("Body"), name),
            required=False,
            max_length=1000,
            widget=UnfoldAdminTextareaWidget(attrs={**typed, "rows": 3, "data-template-part": "body"}),
        )
        fields[f"content_sid_{code}"] = forms.CharField(
            label=format_lazy("{} ({})", _("WhatsApp template SID"), name),
            required=False,
            max_length=64,
            widget=UnfoldAdminTextInputWidget(attrs={"dir": "ltr", "data-template-part": "content_sid"}),
            help_text=_("The approved template's Content SID (HX...)."),
        )
        fields[f"variables_{code}"] = forms.CharField(
            label=format_lazy("{} ({})", _("WhatsApp template variables"), name),
            required=False,
            widget=UnfoldAdminTextareaWidget(attrs={**typed, "rows": 2, "data-template-part": "variables"}),
            help_text=_("One per line: 1=value"),
        )
    return fields


def variables_from(text: str, code: str, *, strict: bool = True) -> dict[str, str]:
    """Parse "1=value" lines; a line without "=" is refused (or skipped when not `strict`)."""
    variables = {}
    for line in filter(None, (line.strip() for line in text.splitlines())):
        key, sign, value = line.partition("=")
        if not sign or not key.strip():
            if strict:
                raise ValidationError({f"variables_{code}": [_("One variable per line, as 1=value.")]})
            continue
        variables[key.strip()] = value.strip()
    return variables


def templates_from(data, channel: str, *, strict: bool = True) -> dict:
    """The `templates` object the API takes, from the per-language fields; empty languages are left out."""
    templates = {}
    for code in LANGUAGES:

        def value(part: str, code=code) -> str:
            return (data.get(f"{part}_{code}") or "").strip()

        if channel == Channel.WHATSAPP:
            if value("content_sid"):
                variables = variables_from(value("variables"), code, strict=strict)
                templates[code] = {"content_sid": value("content_sid"), "variables": variables}
        elif value("title") or value("body"):
            templates[code] = {"title": value("title"), "body": value("body")}
    return templates


def template_initial(templates: dict | None) -> dict[str, str]:
    """The per-language field values of a stored `templates` object."""
    initial = {}
    for code, template in (templates or {}).items():
        for part in ("title", "body", "content_sid"):
            initial[f"{part}_{code}"] = template.get(part, "")
        initial[f"variables_{code}"] = "\n".join(f"{k}={v}" for k, v in template.get("variables", {}).items())
    return initial


def _humanize(key: str) -> str:
    return key.replace("_", " ").capitalize()


def previews(campaign: Campaign) -> list[dict]:
    """What a recipient of each language gets, through `selectors.campaign_preview`."""
    shown = []
    for code in LANGUAGES:
        row = {"code": code, "name": language_name(code), "dir": direction(code), "message": None, "extra": []}
        if Language.ENGLISH in (campaign.templates or {}):  # English is every language's fallback
            preview = dict(selectors.campaign_preview(campaign=campaign, language=code))
            language = preview.pop("language", code)
            variables = preview.pop("variables", None)
            message = {key: preview.pop(key) for key in MESSAGE_KEYS if key in preview}
            if variables:
                message["variables"] = sorted(variables.items())
            row.update(
                message=message,
                shown_in=language_name(language),
                fallback=language != code,
                dir=direction(language),
                extra=[(_humanize(key), value) for key, value in preview.items()],
            )
        shown.append(row)
    return shown
