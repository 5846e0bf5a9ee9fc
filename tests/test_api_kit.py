"""The API kit: one cursor paginator that refuses forged cursors, input parsing, the caller's identity."""

import base64

import pytest
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from samia.accounts.models import User
from samia.api import ApiView, Cursor
from samia.rls.registry import ANONYMOUS_IDENTITY, Identity
from tests import factories

pytestmark = pytest.mark.django_db


def _encoded(querystring: str) -> str:
    return base64.b64encode(querystring.encode()).decode()


def _page(cursor: str | None, *, ordering="-id", queryset=None):
    params = {"page_size": 2} if cursor is None else {"page_size": 2, "cursor": cursor}
    request = Request(APIRequestFactory().get("/things", params))
    paginator = Cursor(ordering)
    page = paginator.paginate_queryset(queryset if queryset is not None else User.objects.all(), request)
    return paginator, page


def test_it_pages_through_in_order_with_the_next_cursor():
    users = [factories.UserFactory() for _ in range(3)]

    paginator, first = _page(None)
    cursor = paginator.get_next_link().split("cursor=")[1].split("&")[0]
    _, second = _page(cursor.replace("%3D", "="))

    assert [u.pk for u in first] == [users[2].pk, users[1].pk]
    assert [u.pk for u in second] == [users[0].pk]


@pytest.mark.parametrize(
    "forged",
    [
        _encoded("p=abc"),
        _encoded("p=1\x00"),
        _encoded("p=99999999999999999999999"),
        _encoded("o=-1"),
        _encoded("r=x"),
        "not base64 at all!",
    ],
)
def test_a_forged_cursor_is_a_clean_404_not_a_database_error(forged):
    factories.UserFactory()

    with pytest.raises(NotFound, match="Invalid cursor"):
        _page(forged)


def test_a_position_is_checked_against_the_ordering_column_type():
    factories.UserFactory()

    with pytest.raises(NotFound):
        _page(_encoded("p=yesterday"), ordering=("-created_at", "-id"))
    _, page = _page(_encoded("p=2999-01-01 00:00:00%2B00:00"), ordering=("-created_at", "-id"))
    assert len(page) == 1


class _Input(serializers.Serializer):
    count = serializers.IntegerField(min_value=1)


def _view(user=None) -> ApiView:
    view = ApiView()
    request = APIRequestFactory().get("/")
    request.user = user
    view.request = Request(request)
    view.request.user = user
    return view


def test_parse_returns_the_validated_data_or_raises_400_details():
    view = _view()

    assert view.parse(_Input, {"count": "3"}) == {"count": 3}
    with pytest.raises(ValidationError) as error:
        view.parse(_Input, {"count": 0})
    assert list(error.value.detail) == ["count"]


def test_identity_is_the_signed_in_user_or_anonymous():
    user = factories.UserFactory(role="reader")

    assert _view(user).identity == Identity(user.pk, "reader")
    assert _view(None).identity == ANONYMOUS_IDENTITY
