"""Review finding F5: the HELP reply's language lookup is no registration oracle for the app's login.

`samia.i18n_phone_language` runs as the owner so that Twilio's webhook (no identity) can read one
language code. It answers only with the app's proof for that number on that connection; a session
that holds the app's database login but not the binding key learns nothing.
"""

import hashlib
import hmac

import pytest
from django.conf import settings
from django.db import connection

from i18n import selectors, sql
from samia.rls import binding
from samia.rls.binding import bound
from tests import factories

PHONE = "+966500000017"
CALL = sql.PHONE_LANGUAGE_CALL


@pytest.fixture
def arabic_holder(db):
    return factories.UserFactory(phone=PHONE, language="ar")


def _ask(number, proof):
    with connection.cursor() as cursor:
        cursor.execute(CALL, [number, proof])
        return cursor.fetchone()[0]


def test_the_app_with_its_proof_reads_the_holders_language(arabic_holder):
    with bound():
        assert selectors.phone_language(PHONE) == "ar"


@pytest.mark.parametrize("proof", ["", "0" * 64, "not hex"])
def test_a_session_without_the_key_learns_nothing(arabic_holder, proof):
    with bound():
        assert _ask(PHONE, proof) is None


def test_a_proof_for_another_number_or_purpose_is_worthless(arabic_holder):
    with bound():
        assert _ask(PHONE, binding.purpose_proof("phone", "+966500000018")) is None
        assert _ask(PHONE, binding.purpose_proof("email", PHONE)) is None


def test_a_proof_from_another_connection_is_worthless(arabic_holder):
    with bound():
        nonce = binding.session_nonce()
        pid, start = nonce.split(":")
        other = f"{int(pid) + 1}:{start}"  # the same key, another server process
        forged = hmac.new(settings.RLS_BINDING_KEY.encode(), f"phone:{PHONE}@{other}".encode(), hashlib.sha256)
        assert _ask(PHONE, forged.hexdigest()) is None
        assert _ask(PHONE, binding.purpose_proof("phone", PHONE)) == "ar"


def test_the_old_one_argument_function_is_gone(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regprocedure('samia.i18n_phone_language(text)')")
        assert cursor.fetchone()[0] is None
