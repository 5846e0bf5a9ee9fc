"""Rendering: the message a claimed send carries, in its recipient's language, with tracked links.

Texts (SMS and WhatsApp) end with a footer the renderer adds, never the template: the brand and
how to stop on every marketing (opt-in) text, the brand with HELP and STOP on a transactional
text that is the first one to its number on its channel. `text()` is the exact SMS body, measured
for its segments before it goes.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from notifications import links
from notifications.dispatch.segments import Measure, measure
from notifications.models import OPT_IN_PURPOSES, Channel
from samia.accounts.models import Language
from samia.accounts.zodiac import sign_name

if TYPE_CHECKING:
    from notifications.dispatch.claims import Work

# Through the gettext catalogs (locale/), rendered in the recipient's language.
ZODIAC_TITLE = _("Your {sign} horoscope for today")

# What the carriers (CTIA) and TCPA practice expect a text to carry.
FOOTERS = {
    "marketing": _("{brand}: Reply STOP to opt out"),
    "first": _("{brand}: Reply HELP for help, STOP to opt out"),
    "opt_in": _("{brand}: You will get our texts again. Reply STOP to opt out, HELP for help."),
}

# The answer to START/YES/UNSTOP already says how to stop: it needs no first-text footer.
OPT_IN_KIND = "consent.opt_in"


def footer(kind: str, language: str) -> str:
    """Return the `marketing`, `first` or `opt_in` line in `language` (English when unknown)."""
    with translation.override(language if language in Language.values else Language.ENGLISH):
        return str(FOOTERS[kind]).format(brand=settings.NOTIFICATIONS_BRAND)


def text(message: dict) -> str:
    """Return the body of a text message: title, body (with its link) and footer, one per line."""
    return "\n".join(part for part in (message.get("title"), message.get("body"), message.get("footer")) if part)


def sms_measure(message: dict) -> Measure | None:
    """Return the encoding and segments of the SMS `message`; None for a template (WhatsApp)."""
    return None if "content_sid" in message else measure(text(message))


def _json(value):
    """jsonb arrives as text through Django's connection (it decodes JSON in the field, not the driver)."""
    return json.loads(value) if isinstance(value, str) else value


def campaign_message(*, templates, language: str, channel: str, purpose: str, click_url: str = "") -> dict:
    """Return a campaign's message in `language` (else English), with its tracked link and footer."""
    templates = _json(templates)
    message = dict(templates.get(language) or templates[Language.ENGLISH])
    if click_url and channel == Channel.SMS and "body" in message:
        # A text carries its tracked link; push carries it in data for the app to open.
        message["body"] = f"{message['body']}\n{click_url}"
    if channel != Channel.PUSH and purpose in OPT_IN_PURPOSES:
        message["footer"] = footer("marketing", language if language in templates else Language.ENGLISH)
    return message


def render(work: Work, campaigns: dict, notifications: dict, horoscopes: dict) -> dict:
    """The message in the recipient's language; {} when its content is gone or withdrawn."""
    data = {"send_id": str(work.id)}
    if work.campaign_id:
        templates, link_url = campaigns[work.campaign_id]
        if link_url:
            data["click_url"] = links.url(work.id, "click", target=link_url)
        message = campaign_message(
            templates=templates,
            language=work.language,
            channel=work.channel,
            purpose=work.purpose,
            click_url=data.get("click_url", ""),
        )
    elif work.notification_id:
        title, body, extra = notifications[work.notification_id]
        message = {"title": title, "body": body}
        data.update({k: str(v) for k, v in (_json(extra) or {}).items()})
        data["click_url"] = links.url(work.id, "click")
        if work.channel != Channel.PUSH and work.purpose in OPT_IN_PURPOSES:
            message["footer"] = footer("marketing", work.language)
        elif work.channel != Channel.PUSH and work.first_contact and work.kind != OPT_IN_KIND:
            message["footer"] = footer("first", work.language)
    elif work.kind == "zodiac.daily":
        row = horoscopes.get(work.subject_id)
        if row is None or row[1] != "approved":
            return {}
        sign, _, text_en, text_ar = row
        language = Language.ARABIC if work.language == Language.ARABIC and text_ar else Language.ENGLISH
        body = (text_ar if language == Language.ARABIC else text_en) or ""
        with translation.override(language):
            title = str(ZODIAC_TITLE).format(sign=sign_name(sign, language))
        message = {"title": title, "body": body[:178] + ("…" if len(body) > 178 else "")}
        data["click_url"] = links.url(work.id, "click")
    else:
        return {}
    data["open_url"] = links.url(work.id, "open")
    message["data"] = data
    return message
