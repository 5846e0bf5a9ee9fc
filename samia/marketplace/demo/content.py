"""Build the demo horoscopes: every sign, a week back to tomorrow, some still pending approval."""

from __future__ import annotations

import datetime as dt
import random

from django.db import transaction

from samia.accounts.models import Language, Role, User
from samia.accounts.zodiac import Sign, sign_name
from samia.marketplace.demo.world import DEMO_DOMAIN, HOUR, World, seconds
from samia.marketplace.models import Horoscope

HOROSCOPE_DAYS = range(-7, 2)  # a week back, today and tomorrow
HOROSCOPE_LINES = [
    ("A conversation you have been avoiding brings relief.", "حديث كنت تؤجله يجلب لك الارتياح."),
    (
        "Money matters need patience today; wait before signing.",
        "الأمور المالية تحتاج إلى الصبر اليوم، تمهل قبل التوقيع.",
    ),
    ("An old friend reaches out with good news.", "صديق قديم يتواصل معك بأخبار سارة."),
    ("Your energy is high: start the project you postponed.", "طاقتك مرتفعة، ابدأ المشروع الذي أجلته."),
    ("Listen more than you speak at work.", "استمع أكثر مما تتكلم في العمل."),
    ("A short trip or a change of scene clears your mind.", "رحلة قصيرة أو تغيير المكان يصفي ذهنك."),
    ("Your family needs your attention this evening.", "عائلتك تحتاج إلى اهتمامك هذا المساء."),
    ("Trust your intuition in matters of the heart.", "ثق بحدسك في أمور القلب."),
    ("Rest well; tomorrow asks for a clear head.", "خذ قسطا من الراحة، فالغد يحتاج إلى ذهن صاف."),
    ("A creative idea deserves to be written down.", "فكرة مبدعة تستحق أن تدونها."),
]


def horoscopes_build(world: World, approvers: list[User]) -> list[Horoscope]:
    """Return every sign's horoscope from a week before the anchor to the day after it, unsaved."""
    rng = random.Random(f"{world.seed}:horoscopes")
    today = world.anchor.date()
    rows = []
    for offset in HOROSCOPE_DAYS:
        date = today + dt.timedelta(days=offset)
        # Written two days ahead, approved a few hours later, all before the anchor.
        written = world.anchor + dt.timedelta(days=offset - 2) + seconds(rng.randint(6 * HOUR, 12 * HOUR))
        for sign in Sign:
            lines = rng.sample(HOROSCOPE_LINES, 2)
            pending = rng.random() < (0.4 if offset > 0 else 0.1)
            rows.append(
                Horoscope(
                    sign=sign,
                    date=date,
                    text_en=f"{sign.label}: {lines[0][0]} {lines[1][0]}",
                    text_ar=f"{sign_name(sign, Language.ARABIC)}: {lines[0][1]} {lines[1][1]}",
                    approval_status=Horoscope.Approval.PENDING if pending else Horoscope.Approval.APPROVED,
                    approved_by=None if pending else rng.choice(approvers),
                    approved_at=None if pending else written + seconds(rng.randint(30 * 60, 6 * HOUR)),
                    created_at=written,
                )
            )
    return rows


@transaction.atomic
def horoscopes_create(world: World) -> None:
    """Insert the demo horoscopes, approved by the demo monitors and admins, keeping any already written."""
    approvers = list(
        User.objects.filter(email__endswith=f"@{DEMO_DOMAIN}", role__in=[Role.MONITOR, Role.ADMIN]).order_by("email")
    )
    Horoscope.objects.bulk_create(horoscopes_build(world, approvers), ignore_conflicts=True)
