"""The back office in Arabic down to the field labels (issue 15, item 6): every field of every model in our apps
has a label, help text and choice labels the Arabic catalog translates, and the change pages and lists a
superadmin opens in Arabic show those labels, not Django's English defaults ("Status", "Created at", "Service").
"""

import datetime as dt
import html
import re
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.utils import flatten_fieldsets, label_for_field
from django.test import Client, RequestFactory
from django.utils import timezone, translation
from django.utils.text import capfirst
from waffle.models import Switch

from backoffice import navigation
from moderation.models import Case, ReasonCode
from samia.marketplace.models import Order, Payment
from sre.models import Incident
from tests.factories import PASSWORD, OrderFactory, PaymentFactory

# Our apps: those whose code lives in the repository (Django's, unfold's and the other packages' are in .venv).
OUR_APPS = [
    config
    for config in apps.get_app_configs()
    if Path(config.path).is_relative_to(settings.BASE_DIR) and ".venv" not in Path(config.path).parts
]
# Names written the same way in Arabic text: products, providers and encodings.
WRITTEN_AS_IS = {"PDF", "Stripe", "Square", "APNs (iOS)", "GSM-7", "UCS-2", "ALS", "Redis"}
# A language offered by its own name (Django's convention for a language picker): the same in every language.
AUTONYMS = {"ar": "العربية", "en": "English"}
# Django's default labels of fields the pages below show; none of them may be left on an Arabic page.
ENGLISH_LABELS = {"Status", "Created at", "Service", "Client", "Reader", "Provider", "Amount", "Country", "Severity"}


def _in(language: str, text) -> str:
    with translation.override(language):
        return str(text)


def _untranslated(text) -> bool:
    return _in("ar", text) == _in("en", text)


def _fields():
    for config in OUR_APPS:
        for model in config.get_models():
            # Django creates the implicit primary key itself, labelled "ID"; no model declares it.
            yield from (field for field in model._meta.concrete_fields if not field.auto_created)


def test_our_apps_are_the_ones_with_models():
    labels = {config.label for config in OUR_APPS}

    assert {"accounts", "marketplace", "audit", "moderation", "notifications", "sre", "ops"} <= labels
    assert not labels & {"admin", "auth", "unfold", "django_celery_beat", "waffle"}
    assert sum(1 for _ in _fields()) > 600


def test_every_field_label_and_help_text_has_an_arabic_translation():
    untranslated = [
        f"{field.model._meta.label}.{field.name}: {_in('en', text)!r}"
        for field in _fields()
        for text in (field.verbose_name, field.help_text)
        if text and _untranslated(text)
    ]

    assert untranslated == []


def test_every_choice_label_has_an_arabic_translation():
    untranslated = [
        f"{field.model._meta.label}.{field.name}={value}: {_in('en', label)!r}"
        for field in _fields()
        for value, label in field.flatchoices
        if _untranslated(label) and _in("en", label) not in WRITTEN_AS_IS and AUTONYMS.get(value) != str(label)
    ]

    assert untranslated == []


def test_the_str_of_what_lists_show_speaks_arabic(personas):
    order = OrderFactory(client=personas["client"], reader=personas["reader"], status="awaiting_approval")
    payment = PaymentFactory(order=order, status="succeeded")

    with translation.override("ar"):
        texts = [str(order), str(payment)]

    assert texts == [f"الطلب رقم {order.pk} (بانتظار الموافقة)", f"الدفعة رقم {payment.pk} (Stripe، نجحت)"]


def test_every_model_the_back_office_lists_and_every_area_has_an_arabic_name():
    ours = {config.label for config in OUR_APPS}
    models = [model for model in admin.site._registry if model._meta.app_label in ours]
    untranslated = [
        f"{model._meta.label}: {_in('en', name)!r}"
        for model in models
        for name in (model._meta.verbose_name, model._meta.verbose_name_plural)
        if _untranslated(name)
    ]
    areas = [_in("en", title) for title, _icon, _labels in navigation.areas(admin.site) if _untranslated(title)]

    assert len(models) > 40
    assert (untranslated, areas) == ([], [])


def test_every_app_and_model_the_back_office_registers_has_an_arabic_name_third_party_included():
    # The sidebar, breadcrumbs and index name apps and models: django-celery-beat and waffle ship no
    # Arabic (backoffice/vendor_strings.py; samia/features/waffle_app.py names waffle's app).
    registered = list(admin.site._registry)
    app_names = [
        _in("en", config.verbose_name)
        for config in {model._meta.app_config for model in registered}
        if _untranslated(config.verbose_name)
    ]
    model_names = [
        _in("en", name)
        for model in registered
        for name in (model._meta.verbose_name, model._meta.verbose_name_plural)
        if _untranslated(name) and _in("en", name) not in WRITTEN_AS_IS
    ]

    assert (app_names, model_names) == ([], [])


# Django labels the implicit primary key "ID" itself (a plain string, no msgid); an acronym staff read as is.
DJANGO_ID = "ID"


def _admin_labels(request):
    """(admin, where, name, label) for each list column and each form or read-only field of our apps' admins."""
    ours = {config.label for config in OUR_APPS}
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label not in ours:
            continue
        form = model_admin.get_form(request)
        fields = flatten_fieldsets(model_admin.get_fieldsets(request)) + list(model_admin.get_readonly_fields(request))
        columns = [name for name in model_admin.get_list_display(request) if name != "action_checkbox"]
        for where, names in (("list", columns), ("page", fields)):
            for name in names:
                label = getattr(form.base_fields.get(name), "label", None) if isinstance(name, str) else None
                yield model_admin, where, name, label or label_for_field(name, model, model_admin, form=form)


@pytest.mark.django_db
def test_every_column_and_field_label_of_our_admins_has_an_arabic_translation(personas):
    request = RequestFactory().get("/backoffice/")
    request.user = personas["superadmin"]

    labels = list(_admin_labels(request))
    untranslated = [
        f"{type(model_admin).__name__} {where} {getattr(name, '__name__', name)}: {_in('en', label)!r}"
        for model_admin, where, name, label in labels
        if _untranslated(label) and _in("en", label) != DJANGO_ID
    ]

    assert len(labels) > 300
    assert untranslated == []


# --- the pages ------------------------------------------------------------------------------------------------------


def _page_labels(page: str) -> list[str]:
    """The field labels of a change page and the column headers of a list, as the staff member reads them."""
    labels = re.findall(r"<label[^>]*>\s*([^<]+?)\s*<", page)
    headers = re.findall(r'<th[^>]*\bcolumn-\w+[^>]*>.*?<div class="text">(.*?)</div>', page, flags=re.S)
    return [html.unescape(text) for text in labels + [re.sub(r"<[^>]+>|\s+", " ", h).strip() for h in headers]]


def _expected(model, names) -> list[str]:
    """The Arabic label of each named model field, as the admin writes it (first letter capitalised)."""
    with translation.override("ar"):
        return [capfirst(str(model._meta.get_field(name).verbose_name)) for name in names]


@pytest.fixture
def arabic_superadmin(personas) -> Client:
    user = personas["superadmin"]
    user.language = "ar"
    user.save(update_fields=["language"])
    client = Client()
    assert client.post("/backoffice/login/", {"username": user.email, "password": PASSWORD}).status_code == 302
    return client


@pytest.fixture
def order(personas):
    return OrderFactory(client=personas["client"], reader=personas["reader"], status="awaiting_approval")


def _get(client: Client, url: str) -> list[str]:
    response = client.get(url)
    assert response.status_code == 200, url
    assert '<html lang="ar" dir="rtl"' in response.content.decode()
    return _page_labels(response.content.decode())


@pytest.mark.django_db
def test_the_order_page_and_list_label_their_fields_in_arabic(arabic_superadmin, order):
    page = _get(arabic_superadmin, f"/backoffice/marketplace/order/{order.pk}/change/")
    listing = _get(arabic_superadmin, "/backoffice/marketplace/order/")

    assert _expected(Order, ["service", "status", "is_gold", "client", "reader"]) == [
        "خدمة",
        "الحالة",
        "ذهبي",
        "العميل",
        "القارئ",
    ]
    assert {"خدمة", "الحالة", "ذهبي", "العميل", "القارئ", "عُلّق من حالة"} <= set(page)
    assert {"خدمة", "الحالة", "ذهبي", "العميل", "القارئ"} <= set(listing)
    assert ENGLISH_LABELS.isdisjoint(page + listing)


@pytest.mark.django_db
def test_the_user_page_and_list_label_their_fields_in_arabic(arabic_superadmin, personas):
    page = _get(arabic_superadmin, f"/backoffice/accounts/user/{personas['client'].pk}/change/")
    listing = _get(arabic_superadmin, "/backoffice/accounts/user/")

    assert {"البريد الإلكتروني", "الاسم الأول", "اسم العائلة", "الهاتف", "الدولة", "تاريخ الميلاد", "البرج"} <= set(
        page
    )
    assert {"الدور", "الدولة", "اللغة", "المنطقة الزمنية"} <= set(listing)
    assert ENGLISH_LABELS.isdisjoint(page + listing)
    assert {"Email", "First name", "Phone", "Date of birth", "Role", "Timezone"}.isdisjoint(page + listing)


@pytest.mark.django_db
def test_pages_carry_the_right_to_left_corrections_of_the_theme(arabic_superadmin):
    page = arabic_superadmin.get("/backoffice/accounts/user/?q=example").content.decode()

    assert "backoffice/rtl.css" in page
    css = (Path(settings.BASE_DIR) / "backoffice" / "static" / "backoffice" / "rtl.css").read_text()
    assert '[dir="rtl"] h1 > span.ml-2' in css  # the list's count, set apart from its title
    assert '[dir="rtl"] .material-symbols-outlined.mr-3' in css  # the sidebar's icons, from their labels


def test_a_date_with_a_time_reads_like_a_date_in_arabic():
    from samia.backoffice_timezone import local_time

    moment = dt.datetime(2026, 12, 7, 10, 5, tzinfo=dt.UTC)

    with translation.override("ar"):
        # the date as Django's Arabic locale writes it, then the time; not the English "N j, Y" order
        assert local_time(moment) == "7 ديسمبر، 2026، 10:05 ص (UTC)"
    with translation.override("en"):
        assert local_time(moment) == "Dec. 7, 2026, 10:05 a.m. (UTC)"


@pytest.mark.django_db
def test_a_phone_number_an_email_and_a_date_read_left_to_right_on_an_arabic_page(arabic_superadmin, personas):
    user = personas["client"]
    user.phone = "+212612345678"
    user.save(update_fields=["phone"])

    page = arabic_superadmin.get(f"/backoffice/accounts/user/{user.pk}/change/").content.decode()

    inputs = {name: tag for tag, name in re.findall(r'(<input[^>]*name="(phone|email|date_of_birth)"[^>]*>)', page)}
    assert set(inputs) == {"phone", "email", "date_of_birth"}  # a date: its digits clear of the calendar button
    assert all('dir="ltr"' in tag for tag in inputs.values()), inputs


@pytest.mark.django_db
def test_the_payment_list_labels_its_columns_in_arabic(arabic_superadmin, order):
    PaymentFactory(order=order, status="succeeded")

    listing = _get(arabic_superadmin, "/backoffice/marketplace/payment/")

    expected = _expected(Payment, ["provider", "country", "amount", "currency", "status", "attempt"])
    assert expected == ["المزوّد", "الدولة", "المبلغ", "العملة", "الحالة", "المحاولة"]
    assert set(expected) <= set(listing)
    assert ENGLISH_LABELS.isdisjoint(listing)


@pytest.mark.django_db
def test_the_case_page_and_the_incident_list_label_their_fields_in_arabic(arabic_superadmin, personas, order):
    now = timezone.now()
    case = Case.objects.create(
        subject=personas["client"],
        order=order,
        reason=ReasonCode.objects.get(code="fraud"),
        priority="high",
        status="open",
        opened_at=now,
        sla_due_at=now + dt.timedelta(hours=8),
    )
    Incident.objects.create(
        severity=Incident._meta.get_field("severity").choices[0][0],
        component=Incident._meta.get_field("component").choices[0][0],
        title="Stripe webhooks late",
        declared_by=personas["superadmin"],
    )

    page = _get(arabic_superadmin, f"/backoffice/moderation/case/{case.pk}/change/")
    incidents = _get(arabic_superadmin, "/backoffice/sre/incident/")

    assert set(_expected(Incident, ["severity", "status", "component", "tier", "declared_at"])) <= set(incidents)
    assert {"الخطورة", "الحالة", "المكوّن", "المستوى", "أُعلن في"} <= set(incidents)
    assert {"المعني", "الأولوية", "الحالة"} <= set(page)
    assert ENGLISH_LABELS.isdisjoint(page + incidents)


# unfold and waffle ship no Arabic; backoffice/vendor_strings.py marks what our pages show of theirs.
UNFOLD_ENGLISH = ("Search apps and models", "Select all rows", "Type to search", "All applications")


@pytest.mark.django_db
def test_unfolds_and_waffles_own_words_are_arabic_too(arabic_superadmin):
    listing = arabic_superadmin.get("/backoffice/waffle/switch/").content.decode()

    assert "مفاتيح الميزات" in listing  # waffle's "Switches"
    assert "ابحث في الأقسام والنماذج" in listing  # unfold's sidebar search
    assert [text for text in (*UNFOLD_ENGLISH, "Switches") if text in listing] == []
    assert _in("ar", Switch._meta.get_field("active").verbose_name) != "Active"
