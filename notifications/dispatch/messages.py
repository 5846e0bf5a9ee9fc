"""Rendering: the message a claimed send carries, in its recipient's language, with tracked links."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from notifications import links
from notifications.models import Channel
from samia.accounts.models import Language
from samia.accounts.zodiac import sign_name

if TYPE_CHECKING:
    from notifications.dispatch.claims import Work

ZODIAC_TITLES = {
    Language.ENGLISH: "Your {sign} horoscope for today",
    Language.ARABIC: "برجك اليوم: {sign}",
}


def _json(value):
    """jsonb arrives as text through Django's connection (it decodes JSON in the field, not the driver)."""
    return json.loads(value) if isinstance(value, str) else value


def render(work: Work, campaigns: dict, notifications: dict, horoscopes: dict) -> dict:
    """The message in the recipient's language; {} when its content is gone or withdrawn."""
    data = {"send_id": str(work.id)}
    if work.campaign_id:
        templates, link_url = campaigns[work.campaign_id]
        templates = _json(templates)
        template = templates.get(work.language) or templates[Language.ENGLISH]
        message = dict(template)
        if link_url:
            data["click_url"] = links.url(work.id, "click", target=link_url)
            if work.channel == Channel.SMS and "body" in message:
                # A text carries its tracked link; push carries it in data for the app to open.
                message["body"] = f"{message['body']}\n{data['click_url']}"
    elif work.notification_id:
        title, body, extra = notifications[work.notification_id]
        message = {"title": title, "body": body}
        data.update({k: str(v) for k, v in (_json(extra) or {}).items()})
        data["click_url"] = links.url(work.id, "click")
    elif work.kind == "zodiac.daily":
        row = horoscopes.get(work.subject_id)
        if row is None or row[1] != "approved":
            return {}
        sign, _, text_en, text_ar = row
        language = Language.ARABIC if work.language == Language.ARABIC and text_ar else Language.ENGLISH
        text = (text_ar if language == Language.ARABIC else text_en) or ""
        title = ZODIAC_TITLES[language].format(sign=sign_name(sign, language))
        message = {"title": title, "body": text[:178] + ("…" if len(text) > 178 else "")}
        data["click_url"] = links.url(work.id, "click")
    else:
        return {}
    data["open_url"] = links.url(work.id, "open")
    message["data"] = data
    return message
