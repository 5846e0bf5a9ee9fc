"""M27 i18n: masking round trips, the reviewed pipeline against a fake DeepL, publishing gates, parity, RLS."""

import datetime as dt
import logging

import pytest
from django.db import DatabaseError, connection, transaction

from i18n.masking import Masker
from i18n.models import FieldPolicy, FieldTranslation, GlossaryTerm
from i18n.selectors import sha256
from samia.audit.models import AuditEntry
from samia.events.models import EventRaw
from samia.marketplace.models import Horoscope, Service
from samia.rls.binding import bound
from samia.rls.registry import Identity
from tests import factories
from tests.conftest import api_as, rows_as
from tests.i18n.conftest import AUTH_KEY, state

pytestmark = pytest.mark.django_db

I18N_TABLES = ["i18n_fieldtranslation", "i18n_fieldpolicy", "i18n_glossaryterm"]
PERSONAS = ["client", "reader", "monitor", "admin", "superadmin"]
SIGNS = ["aries", "taurus", "gemini", "cancer", "leo", "virgo", "libra", "scorpio"]


def horoscope(index: int = 0, **fields) -> Horoscope:
    return factories.HoroscopeFactory(sign=SIGNS[index], **fields)


def translate(user, ids, *, field="text", model="marketplace.Horoscope", target="ar", **extra):
    body = {"model": model, "field": field, "ids": ids, "target": target, **extra}
    return api_as(user).post("/admin/i18n/translate", body, format="json")


# --- masking ---------------------------------------------------------------------------------------------------------


def test_it_round_trips_arabic_with_rtl_marks_and_arabic_indic_digits_unchanged():
    text = "\u200fبرجك اليوم ٣ نجوم \u202bالحظ\u202c ٢٠٢٦ & <قريبا>\u200e"  # noqa: RUF001
    masker = Masker(["SAMIA"])
    masked = masker.mask(text)
    assert Masker.restore(masked.text, masked) == text


def test_it_writes_arabic_with_rtl_marks_and_arabic_indic_digits_byte_for_byte(personas, deepl, auto_translate):
    # given a source whose unknown words (marks, Arabic-Indic digits) the fake keeps as they are
    source = "Luck \u200f٣ today \u200e{order}"
    item = horoscope(text_ar="", text_en=source)
    response = translate(personas["admin"], [item.pk])
    item.refresh_from_db()
    assert response.status_code == 200, response.json()
    assert item.text_ar == "الحظ \u200f٣ اليوم \u200e{order}"


def test_it_keeps_placeholders_and_icu_plurals(personas, deepl, auto_translate):
    source = "Your order {order} is ready, %(name)s: {count, plural, one {# reading} other {# readings}} %s"
    item = horoscope(text_ar="", text_en=source)
    translate(personas["admin"], [item.pk])
    item.refresh_from_db()
    assert item.text_ar == "ك الطلب {order} جاهز, %(name)s: {count, plural, one {# reading} other {# readings}} %s"
    sent = deepl.translate_requests()[0]
    assert (sent["tag_handling"], sent["ignore_tags"]) == ("xml", ["x"])
    assert sent["text"] == ['Your order <x id="0"/> is ready, <x id="1"/>: <x id="2"/> <x id="3"/>']


def test_it_rejects_an_item_whose_tag_the_provider_dropped(personas, deepl, auto_translate):
    item = horoscope(text_ar="", text_en="Your order {order} is ready")
    plain = horoscope(1, text_ar="", text_en="Love today")
    deepl.script(drop_tag=True)
    response = translate(personas["admin"], [item.pk, plain.pk])
    assert response.json()["results"] == [
        {"id": item.pk, "result": "rejected", "code": "placeholder_mismatch"},
        {"id": plain.pk, "result": "written", "code": "translated"},
    ]
    item.refresh_from_db()
    assert item.text_ar == ""
    assert list(FieldTranslation.objects.values_list("object_id", flat=True)) == [plain.pk]


def test_it_leaves_protected_terms_untouched_and_flags_a_glossary_miss(personas, deepl, auto_translate):
    GlossaryTerm.objects.create(term_en="SAMIA Tarot", term_ar="سامية تاروت", protected=True)
    GlossaryTerm.objects.create(term_en="reading", term_ar="قراءة")  # the fake knows it
    GlossaryTerm.objects.create(term_en="tarot spread", term_ar="فرد التاروت")  # the fake does not
    kept = horoscope(text_ar="", text_en="Your reading with SAMIA Tarot is ready")
    missed = horoscope(1, text_ar="", text_en="A tarot spread today")
    response = translate(personas["admin"], [kept.pk, missed.pk])
    assert [r["code"] for r in response.json()["results"]] == ["translated", "glossary_miss"]
    kept.refresh_from_db()
    assert kept.text_ar == "ك قراءة with SAMIA Tarot جاهز"
    rows = dict(FieldTranslation.objects.values_list("object_id", "glossary_miss"))
    assert rows == {kept.pk: False, missed.pk: True}
    assert set(FieldTranslation.objects.values_list("status", flat=True)) == {"auto"}


# --- the pipeline ----------------------------------------------------------------------------------------------------


def test_it_computes_stale_when_the_source_is_edited(personas, deepl, auto_translate):
    item = horoscope(text_ar="", text_en="Love today")
    translate(personas["admin"], [item.pk])
    row = FieldTranslation.objects.get()
    assert row.source_sha256 == sha256("Love today")
    status = api_as(personas["admin"]).get("/admin/i18n/status?model=marketplace.Horoscope").json()["fields"]
    assert [r["stale"] for r in status if r["language"] == "ar"] == [0]

    Horoscope.objects.filter(pk=item.pk).update(text_en="Money today")

    status = api_as(personas["admin"]).get("/admin/i18n/status?model=marketplace.Horoscope").json()["fields"]
    assert [r["stale"] for r in status if r["language"] == "ar"] == [1]
    review = api_as(personas["admin"]).post(
        "/admin/i18n/review", {"ids": [row.pk], "status": "approved"}, format="json"
    )
    assert review.json()["results"] == [{"id": row.pk, "result": "rejected", "code": "stale"}]


def test_it_overwrites_reviewed_text_only_with_force(personas, deepl, auto_translate):
    item = horoscope(text_ar="", text_en="Love today")
    admin = personas["admin"]
    translate(admin, [item.pk])
    row = FieldTranslation.objects.get()
    api_as(admin).post("/admin/i18n/review", {"ids": [row.pk], "status": "reviewed"}, format="json")
    Horoscope.objects.filter(pk=item.pk).update(text_ar="الحب اليوم (مراجع)")

    skipped = translate(admin, [item.pk]).json()["results"]
    item.refresh_from_db()
    assert (skipped, item.text_ar) == ([{"id": item.pk, "result": "skipped", "code": "reviewed"}], "الحب اليوم (مراجع)")

    forced = translate(admin, [item.pk], force=True).json()["results"]
    item.refresh_from_db()
    row.refresh_from_db()
    assert forced == [{"id": item.pk, "result": "written", "code": "translated"}]
    assert (item.text_ar, row.status, row.reviewed_by_id) == ("الحب اليوم", "auto", None)


def test_it_skips_staff_written_text_and_lists_missing_ids(personas, deepl, auto_translate):
    written = horoscope(text_ar="كتبه أحد الموظفين", text_en="Love today")
    response = translate(personas["admin"], [written.pk, 999999])
    assert response.json()["results"] == [
        {"id": written.pk, "result": "skipped", "code": "written_by_staff"},
        {"id": 999999, "result": "rejected", "code": "not_found"},
    ]
    assert response.json()["counts"] == {"written": 0, "skipped": 1, "rejected": 1}


def test_it_audits_the_batch_and_emits_the_characters(personas, deepl, auto_translate):
    items = [horoscope(i, text_ar="", text_en="Love today") for i in range(3)]
    translate(personas["admin"], [i.pk for i in items])
    entry = AuditEntry.objects.get(action="i18n.translate.batch")
    assert entry.details == {
        "model": "marketplace.Horoscope",
        "field": "text",
        "target": "ar",
        "provider": "translation",
        "written": 3,
        "skipped": 0,
        "rejected": 0,
    }
    event = EventRaw.objects.get(name="i18n.batch_translated")
    assert event.properties == {"model": "marketplace.Horoscope", "field": "text", "fields": 3, "chars": 30}


def test_it_translates_service_names_and_reason_labels(personas, deepl, auto_translate):
    service = factories.ServiceFactory(code="coffee", name="Coffee cup")
    response = translate(personas["admin"], [service.pk], model="marketplace.Service", field="name")
    service.refresh_from_db()
    assert (response.status_code, service.name_en, service.name_ar) == (200, "Coffee cup", "القهوة فنجان")


# --- publishing ------------------------------------------------------------------------------------------------------


def test_it_serves_the_source_text_instead_of_an_unapproved_auto_translation(personas, deepl, auto_translate):
    item = horoscope(text_ar="", text_en="Love today")
    translate(personas["admin"], [item.pk])
    row = FieldTranslation.objects.get()

    def served():
        (result,) = api_as().get(f"/horoscopes/daily?sign={item.sign}").json()["results"]
        return result["text_ar"], result["text_en"]

    assert served() == ("Love today", "Love today")
    api_as(personas["admin"]).post("/admin/i18n/review", {"ids": [row.pk], "status": "reviewed"}, format="json")
    assert served() == ("Love today", "Love today")
    api_as(personas["admin"]).post("/admin/i18n/review", {"ids": [row.pk], "status": "approved"}, format="json")
    assert served() == ("الحب اليوم", "Love today")


def test_it_serves_auto_text_where_review_is_not_required(personas, deepl, auto_translate):
    item = horoscope(text_ar="", text_en="Love today")
    translate(personas["admin"], [item.pk])
    FieldPolicy.objects.filter(model="marketplace.Horoscope").update(review_required=False)
    (result,) = api_as().get(f"/horoscopes/daily?sign={item.sign}").json()["results"]
    assert result["text_ar"] == "الحب اليوم"


@pytest.mark.parametrize("approver", ["monitor", "admin"])
def test_it_refuses_to_approve_a_horoscope_while_a_language_is_unreviewed(personas, deepl, auto_translate, approver):
    item = horoscope(text_ar="", text_en="Love today", approval_status="pending")
    translate(personas["admin"], [item.pk])
    before = state()

    refused = api_as(personas[approver]).post(f"/admin/horoscopes/{item.pk}/approve")

    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "translation_unreviewed"
    assert refused.json()["error"]["details"] == {"horoscope_id": item.pk, "languages": ["ar"]}
    assert state() == before
    row = FieldTranslation.objects.get()
    api_as(personas["admin"]).post("/admin/i18n/review", {"ids": [row.pk], "status": "reviewed"}, format="json")
    approved = api_as(personas[approver]).post(f"/admin/horoscopes/{item.pk}/approve")
    assert (approved.status_code, Horoscope.objects.get(pk=item.pk).approval_status) == (200, "approved")


# --- parity ----------------------------------------------------------------------------------------------------------


def test_it_counts_parity_against_a_hand_built_dataset(personas):
    # given 4 horoscopes: one without Arabic, one auto, one reviewed but stale, one approved
    h = [horoscope(i, text_en=f"Text {i}", text_ar=f"نص {i}") for i in range(4)]
    Horoscope.objects.filter(pk=h[0].pk).update(text_ar="")
    common = {"model": "marketplace.Horoscope", "field": "text", "language": "ar", "source_lang": "en"}
    FieldTranslation.objects.create(object_id=h[1].pk, status="auto", source_sha256=sha256("Text 1"), **common)
    FieldTranslation.objects.create(object_id=h[2].pk, status="reviewed", source_sha256=sha256("old"), **common)
    FieldTranslation.objects.create(object_id=h[3].pk, status="approved", source_sha256=sha256("Text 3"), **common)

    report = api_as(personas["superadmin"]).get("/admin/i18n/status").json()

    rows = {(r["model"], r["field"], r["language"]): r for r in report["fields"]}
    assert rows[("marketplace.Horoscope", "text", "ar")] == {
        "model": "marketplace.Horoscope",
        "field": "text",
        "language": "ar",
        "source": False,
        "total": 4,
        "missing": 1,
        "auto": 1,
        "reviewed": 1,
        "approved": 1,
        "stale": 1,
        "parity": 75.0,
    }
    assert rows[("marketplace.Horoscope", "text", "en")]["parity"] == 100.0
    assert {(r["model"], r["field"]) for r in report["fields"]} == {
        ("marketplace.Horoscope", "text"),
        ("marketplace.Service", "name"),
        ("moderation.ReasonCode", "label"),
    }
    assert [c["language"] for c in report["campaigns"]] == ["en", "ar"]


def test_it_reports_full_gettext_catalog_parity(personas):
    catalog = api_as(personas["admin"]).get("/admin/i18n/status").json()["catalog"]
    assert [(c["language"], c["missing"], c["parity"]) for c in catalog] == [("en", 0, 100.0), ("ar", 0, 100.0)]
    assert catalog[1]["total"] > 100


# --- provider failures and secrets -----------------------------------------------------------------------------------


def test_it_answers_503_when_the_provider_is_not_configured(personas, auto_translate, settings):
    settings.DEEPL_AUTH_KEY = ""
    item = horoscope(text_ar="", text_en="Love today")
    before = state()
    response = translate(personas["admin"], [item.pk])
    assert (response.status_code, response.json()["error"]["code"]) == (503, "provider_unavailable")
    assert state() == before


@pytest.mark.parametrize(
    ("status", "retry_after", "code", "header"),
    [(456, None, "provider_quota_exceeded", "3600"), (429, 7, "provider_rate_limited", "7")],
)
def test_it_maps_quota_and_rate_limits_to_503_with_retry_after(
    personas, deepl, auto_translate, status, retry_after, code, header
):
    items = [horoscope(i, text_ar="", text_en="Love today") for i in range(2)]
    before = state()
    deepl.script(status, retry_after=retry_after)
    response = translate(personas["admin"], [i.pk for i in items])
    assert (response.status_code, response.json()["error"]["code"], response["Retry-After"]) == (503, code, header)
    assert state() == before
    assert len(deepl.translate_requests()) == 1  # the client did not retry


def test_it_never_logs_the_key(personas, deepl, auto_translate, caplog):
    caplog.set_level(logging.DEBUG)
    item = horoscope(text_ar="", text_en="Love today")
    deepl.script(429, retry_after=3)
    translate(personas["admin"], [item.pk])
    translate(personas["admin"], [item.pk])
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert "deepl" in logged and AUTH_KEY not in logged and AUTH_KEY.split(":")[0] not in logged
    assert all(AUTH_KEY not in str(entry.details) for entry in AuditEntry.objects.all())


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"model": "accounts.User", "field": "email"}, "model"),
        ({"model": "marketplace.Horoscope", "field": "sign"}, "field"),
        ({"ids": list(range(1, 202))}, "ids"),
        ({"ids": []}, "ids"),
        ({"ids": ["x"]}, "ids"),
        ({"target": "en"}, "target"),
        ({"target": "fr"}, "target"),
    ],
)
def test_it_refuses_bad_input_with_400(personas, deepl, auto_translate, body, field):
    item = horoscope(text_ar="", text_en="Love today")
    base = {"model": "marketplace.Horoscope", "field": "text", "ids": [item.pk], "target": "ar"}
    before = state()
    response = api_as(personas["admin"]).post("/admin/i18n/translate", {**base, **body}, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["details"]
    assert state() == before and deepl.translate_requests() == []


def test_it_refuses_while_auto_translation_is_off(personas, deepl):
    item = horoscope(text_ar="", text_en="Love today")
    response = translate(personas["admin"], [item.pk])
    assert (response.status_code, response.json()["error"]["code"]) == (409, "conflict")


# --- RLS -------------------------------------------------------------------------------------------------------------

ROUTES = [
    ("post", "/admin/i18n/translate", {"model": "marketplace.Horoscope", "field": "text", "ids": [1], "target": "ar"}),
    ("get", "/admin/i18n/status", None),
    ("post", "/admin/i18n/review", {"ids": [1], "status": "approved"}),
]


@pytest.mark.parametrize("persona", [*PERSONAS, "anonymous"])
@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
def test_it_admits_only_admins_to_the_routes(personas, deepl, auto_translate, persona, method, path, body):
    before = state()
    user = personas.get(persona)
    response = getattr(api_as(user), method)(path, body, format="json") if body else api_as(user).get(path)
    expected = {"admin": 200, "superadmin": 200, "anonymous": 401}.get(persona, 403)
    assert response.status_code == expected
    if expected != 200:
        assert state() == before


@pytest.mark.parametrize("persona", PERSONAS)
def test_it_shows_the_i18n_tables_to_admins_only_and_lets_nobody_delete(personas, persona):
    FieldTranslation.objects.create(
        model="marketplace.Service", object_id=1, field="name", language="ar", source_lang="en", source_sha256="0" * 64
    )
    FieldPolicy.objects.create(model="marketplace.Service", field="name")
    GlossaryTerm.objects.create(term_en="SAMIA", term_ar="سامية", protected=True)
    user = personas[persona]
    identity = Identity(user.pk, user.role)
    seen = [rows_as(identity, f"SELECT count(*) FROM {table}")[0][0] for table in I18N_TABLES]
    assert seen == ([1, 1, 1] if persona in ("admin", "superadmin") else [0, 0, 0])
    for table in I18N_TABLES:
        with pytest.raises(DatabaseError), transaction.atomic(), bound(identity), connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {table}")
    assert rows_as(Identity(None, None), "SELECT count(*) FROM i18n_fieldtranslation") == [(0,)]


def test_it_keeps_service_names_in_english_after_the_data_migration():
    service = Service.objects.create(code="healing", name="Healing", base_price=10)
    assert (service.name_en, service.name) == ("Healing", "Healing")


def test_the_zodiac_push_sends_english_instead_of_an_unapproved_arabic_translation(settings):
    from notifications import planning
    from notifications.dispatch.claims import load
    from notifications.models import Send
    from tests.notifications.helpers import recipient, utc

    settings.NOTIFICATIONS_ZODIAC_LOCAL_TIME = "09:00"
    recipient(
        zone="Asia/Riyadh",
        channels=("push",),
        purpose="zodiac",
        device="tok-r",
        language="ar",
        date_of_birth=dt.date(1990, 4, 1),
    )  # aries
    item = horoscope(text_en="Love today", text_ar="الحب اليوم", date=dt.date(2026, 11, 25))
    common = {"model": "marketplace.Horoscope", "field": "text", "language": "ar", "source_lang": "en"}
    row = FieldTranslation.objects.create(
        object_id=item.pk, status="auto", source_sha256=sha256("Love today"), **common
    )
    assert planning.zodiac_plan(now=utc("2026-11-25T06:30")) == 1
    send = Send.objects.get(kind="zodiac.daily")

    (work,) = load([send.pk])
    assert work.message["body"] == "Love today"
    FieldTranslation.objects.filter(pk=row.pk).update(status="approved")
    (work,) = load([send.pk])
    assert work.message["body"] == "الحب اليوم"
