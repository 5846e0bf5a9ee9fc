"""Per-country sweep thresholds: an override for a country replaces the rule's own, elsewhere the rule's apply."""

from decimal import Decimal

import pytest
from django.test import Client

from moderation.models import SweepRule, SweepRuleCountry
from moderation.sweeps import sweeps_run
from tests import factories
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def _reader(country):
    return factories.UserFactory(role="reader", country=country)


def _calls(reader, dropped, connected):
    """`dropped` dropped calls among `connected` connected ones (the rest ended)."""
    for status in ["dropped"] * dropped + ["ended"] * (connected - dropped):
        order = factories.OrderFactory(reader=reader, status="assigned")
        factories.CallFactory(order=order, reader=reader, status=status)


def _override(rule, country, **thresholds):
    return SweepRuleCountry.objects.create(rule=SweepRule.objects.get(rule=rule), country=country, **thresholds)


def _found(cases):
    return sorted((case.details["rule"], case.subject_id, case.scope) for case in cases)


def test_a_higher_call_drop_threshold_where_networks_are_worse(personas):
    # given three readers dropping 4 of 10 calls (0.4, above the rule's 0.3), in SA, EG and EG,
    # and for EG a call-drop threshold of 0.5; one EG reader drops 6 of 10
    saudi, egyptian, worse = _reader("SA"), _reader("EG"), _reader("EG")
    _calls(saudi, 4, 10)
    _calls(egyptian, 4, 10)
    _calls(worse, 6, 10)
    _override("call_drops", "EG", max_rate=Decimal("0.5000"))

    cases = sweeps_run(rules=["call_drops"])

    # then the SA reader trips the rule's own threshold, the EG reader under 0.5 does not, the one above does
    assert _found(cases) == sorted([("call_drops", saudi.pk, ""), ("call_drops", worse.pk, "")])
    # and the case's figures are as before, with no thresholds or countries in them
    assert {case.subject_id: case.details for case in cases}[worse.pk] == {
        "rule": "call_drops",
        "dropped": 6,
        "calls": 10,
        "rate": 0.6,
    }


def test_an_override_may_raise_the_count_and_keep_the_rules_rate(personas):
    # given two SA readers over the rate, one with 10 connected calls and one with 20, and SA needing 15 calls
    few, many = _reader("SA"), _reader("SA")
    _calls(few, 4, 10)
    _calls(many, 8, 20)
    _override("call_drops", "SA", min_count=15)

    cases = sweeps_run(rules=["call_drops"])

    assert _found(cases) == [("call_drops", many.pk, "")]


def test_payment_fallbacks_use_the_payments_country(personas):
    # given 5 stripe fallbacks in 10 attempts (0.5) in SA and in AE, and AE allowed up to 0.6
    for country in ("SA", "AE"):
        for _ in range(5):
            failed = factories.PaymentFactory(provider="stripe", country=country, status="failed")
            factories.PaymentFactory(
                order=failed.order, attempt=2, provider="square", country=country, fallback_of=failed
            )
            factories.PaymentFactory(provider="stripe", country=country, status="succeeded")
    _override("payment_fallback", "AE", max_rate=Decimal("0.6000"))

    cases = sweeps_run(rules=["payment_fallback"])

    assert _found(cases) == [("payment_fallback", None, "provider:stripe:SA")]


def test_count_rules_take_a_per_country_count(personas):
    # given two clients with 10 orders in the hour, one in SA and one in KW, where KW allows 20
    saudi, kuwaiti = (
        factories.UserFactory(role="client", country="SA"),
        factories.UserFactory(role="client", country="KW"),
    )
    for client in (saudi, kuwaiti):
        for _ in range(10):
            factories.OrderFactory(client=client)
    _override("spam_orders", "KW", min_count=20)

    cases = sweeps_run(rules=["spam_orders"])

    assert _found(cases) == [("spam_orders", saudi.pk, "")]


def _logged_in(user) -> Client:
    client = Client()
    assert client.post("/backoffice/login/", {"username": user.email, "password": PASSWORD}).status_code == 302
    return client


URL = "/backoffice/moderation/sweeprulecountry/"


def test_admins_add_an_override_in_the_back_office_and_monitors_only_read(personas):
    rule = SweepRule.objects.get(rule="call_drops")
    form = {"rule": rule.pk, "country": "EG", "min_count": "", "max_rate": "0.5"}

    added = _logged_in(personas["admin"]).post(f"{URL}add/", form)
    monitor = _logged_in(personas["monitor"])
    refused = monitor.post(f"{URL}add/", {**form, "country": "JO"})

    assert added.status_code == 302
    assert list(SweepRuleCountry.objects.values_list("rule__rule", "country", "min_count", "max_rate")) == [
        ("call_drops", "EG", None, Decimal("0.5000"))
    ]
    assert refused.status_code == 403
    assert monitor.get(URL).status_code == 200


@pytest.mark.parametrize(
    "form",
    [
        {"country": "eg", "max_rate": "0.5"},
        {"country": "EGY", "max_rate": "0.5"},
        {"country": "EG", "max_rate": "1.5"},
        {"country": "EG", "min_count": "0"},
    ],
)
def test_the_back_office_refuses_a_bad_override(personas, form):
    rule = SweepRule.objects.get(rule="call_drops")

    response = _logged_in(personas["admin"]).post(
        f"{URL}add/", {"rule": rule.pk, "min_count": "", "max_rate": "", **form}
    )

    assert response.status_code == 200  # the form again, with the refusal
    assert SweepRuleCountry.objects.count() == 0
