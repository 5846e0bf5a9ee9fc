"""The Arabic catalog (issue 15, item 6): every string the project marks for translation has an Arabic
translation, the catalog is current with the code and compiled, and the back office in Arabic runs
right to left with Arabic labels while text people wrote keeps its own direction (`dir="auto"`).
"""

import datetime as dt
import re
import shutil
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client, override_settings
from django.utils import timezone

from moderation.models import Case, ReasonCode
from tests.factories import PASSWORD, OrderFactory

CATALOG = Path(settings.BASE_DIR) / "locale" / "ar" / "LC_MESSAGES"
# What `makemessages` leaves out (BACKOFFICE_README.md, Languages): the virtualenv, tests, benchmarks, migrations.
IGNORED = [".venv", ".git", "tests", "bench", "migrations", "staticfiles", "var", "__pycache__"]
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w*\}")

QUESTION = "هل سأجد عملاً جديداً هذا العام؟"
NOTE = "تحققنا من الهوية ورفعنا التعليق."


def _entries(catalog) -> dict:
    """(context, msgid, plural msgid) -> translation(s), for the live (not obsolete) entries."""
    return {
        (e.msgctxt, e.msgid, e.msgid_plural): tuple(e.msgstr_plural.values()) if e.msgid_plural else e.msgstr
        for e in catalog
        if not e.obsolete
    }


def test_every_project_msgid_has_an_arabic_translation():
    catalog = polib.pofile(CATALOG / "django.po")

    untranslated = [e.msgid for e in catalog if not e.obsolete and not e.translated()]
    fuzzy = [e.msgid for e in catalog if not e.obsolete and "fuzzy" in e.flags]
    broken = [
        e.msgid
        for e in catalog
        if not e.obsolete
        for text in (e.msgstr_plural.values() if e.msgid_plural else [e.msgstr])
        if set(PLACEHOLDER.findall(text)) != set(PLACEHOLDER.findall(e.msgid))
    ]

    assert len(catalog) > 300
    assert (untranslated, fuzzy, broken) == ([], [], [])


def test_the_compiled_catalog_is_the_po_file():
    po, mo = polib.pofile(CATALOG / "django.po"), polib.mofile(CATALOG / "django.mo")

    assert _entries(mo) == _entries(po), "locale/ar is not compiled: run `manage.py compilemessages -l ar`"


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="GNU gettext is not installed (make test installs it)")
def test_the_catalog_holds_exactly_the_strings_the_code_marks(tmp_path, monkeypatch):
    # makemessages writes next to the code it reads: extract from a copy so the committed catalog stays as it is.
    copy = tmp_path / "project"
    shutil.copytree(settings.BASE_DIR, copy, ignore=shutil.ignore_patterns(*IGNORED))
    monkeypatch.chdir(copy)

    with override_settings(LOCALE_PATHS=[copy / "locale"]):
        call_command("makemessages", locale=["ar"], ignore_patterns=IGNORED, no_location=True, verbosity=0)

    extracted = set(_entries(polib.pofile(copy / "locale" / "ar" / "LC_MESSAGES" / "django.po")))
    committed = set(_entries(polib.pofile(CATALOG / "django.po")))
    new, gone = sorted(extracted - committed, key=str), sorted(committed - extracted, key=str)
    assert (new, gone) == ([], []), "locale/ar is stale: run makemessages (BACKOFFICE_README.md, Languages)"


# --- the back office in Arabic -----------------------------------------------------------------------------------


@pytest.fixture
def arabic_admin(personas):
    user = personas["admin"]
    user.language = "ar"
    user.save(update_fields=["language"])
    client = Client()
    assert client.post("/backoffice/login/", {"username": user.email, "password": PASSWORD}).status_code == 302
    return client


@pytest.fixture
def order(personas):
    return OrderFactory(
        client=personas["client"], reader=personas["reader"], status="awaiting_approval", question=QUESTION
    )


@pytest.mark.django_db
def test_the_order_page_runs_right_to_left_with_arabic_labels(arabic_admin, order):
    html = arabic_admin.get(f"/backoffice/marketplace/order/{order.pk}/change/").content.decode()

    assert '<html lang="ar" dir="rtl"' in html
    assert "بانتظار الموافقة" in html  # awaiting_approval
    assert re.search(rf'<div dir="auto"[^>]*>{QUESTION}</div>', html)


@pytest.mark.django_db
def test_the_dashboard_speaks_arabic(arabic_admin, order):
    html = arabic_admin.get("/backoffice/").content.decode()

    assert '<html lang="ar" dir="rtl"' in html
    for label in ("الحالات المفتوحة حسب الأولوية", "الطلبات قيد التنفيذ", "بانتظار الموافقة", "حرجة", "عالية"):
        assert label in html, label


@pytest.mark.django_db
def test_the_case_page_keeps_user_written_text_in_its_own_direction(arabic_admin, personas, order):
    now = timezone.now()
    case = Case.objects.create(
        subject=personas["client"],
        order=order,
        reason=ReasonCode.objects.get(code="fraud"),
        priority="high",
        status="resolved",
        opened_at=now,
        sla_due_at=now + dt.timedelta(hours=8),
        resolved_at=now,
        resolution_note=NOTE,
    )

    html = arabic_admin.get(f"/backoffice/moderation/case/{case.pk}/change/").content.decode()

    assert '<html lang="ar" dir="rtl"' in html
    assert "مُغلقة" in html and "عالية" in html  # resolved, high
    assert f'<div dir="auto">{NOTE}</div>' in html
    assert re.search(rf'<span dir="auto">{QUESTION}</span>', html)  # the subject's recent orders
