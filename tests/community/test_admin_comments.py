"""The back office: comments on a community case's page (text in its own direction, the thread, the buttons)."""

import pytest
from django.test import Client

from community import jobs
from community.models import Comment
from moderation.models import Case
from tests.community.conftest import audited, comment
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def _logged_in(user) -> Client:
    client = Client()
    assert client.post("/backoffice/login/", {"username": user.email, "password": PASSWORD}).status_code == 302
    return client


@pytest.fixture
def filed(personas, thread, community_on):
    """The thread's pending comments filed on their case; an Arabic one among them."""
    arabic = comment(thread["mine"], personas["reader"], body="قراءة دقيقة جداً، شكراً")
    jobs.cases_file()
    return Case.objects.get(order=thread["mine"], source="community"), arabic


@pytest.mark.parametrize("role", ["monitor", "admin", "superadmin"])
def test_it_shows_the_thread_with_its_buttons_on_the_case_page(personas, thread, filed, role):
    case, arabic = filed

    page = _logged_in(personas[role]).get(f"/backoffice/moderation/case/{case.pk}/change/")

    assert page.status_code == 200
    html = page.content.decode()
    assert f'data-comment="{arabic.pk}"' in html
    assert '<div dir="auto" class="my-2">قراءة دقيقة جداً، شكراً</div>' in html
    for row in thread["comments"].values():
        assert (f'data-comment="{row.pk}"' in html) is (row.order_id == thread["mine"].pk)
    assert f'action="/backoffice/community/comment/{arabic.pk}/moderate/"' in html
    assert 'value="approve"' in html and 'value="hide"' in html and 'value="remove"' in html


def test_it_moderates_from_the_case_page_and_comes_back_to_it(personas, thread, filed):
    case, arabic = filed
    monitor = _logged_in(personas["monitor"])
    back = f"/backoffice/moderation/case/{case.pk}/change/"

    response = monitor.post(
        f"/backoffice/community/comment/{arabic.pk}/moderate/", {"do": "hide", "reason": "spam", "next": back}
    )

    assert response.status_code == 302 and response["Location"] == back
    assert Comment.objects.get(pk=arabic.pk).status == "hidden"
    assert audited("moderation.community.hide")[0].details["case_id"] == case.pk
    assert f"Comment #{arabic.pk}: Hide done" in monitor.get(back).content.decode()


def test_it_offers_nothing_on_a_removed_comment_and_refuses_a_forged_post(personas, thread, filed):
    removed = comment(thread["mine"], personas["client"], status="removed")
    admin = _logged_in(personas["admin"])

    page = admin.get(f"/backoffice/community/comment/{removed.pk}/change/")
    forged = admin.post(f"/backoffice/community/comment/{removed.pk}/moderate/", {"do": "approve", "reason": "spam"})

    assert page.status_code == 200
    assert f'action="/backoffice/community/comment/{removed.pk}/moderate/"' not in page.content.decode()
    assert forged.status_code == 302
    assert Comment.objects.get(pk=removed.pk).status == "removed"
    assert "This action is not open to you on this comment now." in admin.get(forged["Location"]).content.decode()


def test_it_lists_comments_by_handle_never_by_name_or_email(personas, thread, community_on):
    page = _logged_in(personas["monitor"]).get("/backoffice/community/comment/")

    assert page.status_code == 200
    html = page.content.decode()
    assert "member-" in html
    for persona in ("client", "reader", "other_client"):
        assert personas[persona].email not in html
        assert personas[persona].last_name not in html
