import pytest
from django.utils import timezone

from community.models import Comment, CommunityFlag, Reaction
from moderation.models import Case, ModerationAction
from samia.audit.models import AuditEntry
from samia.events.models import EventRaw
from samia.rls.registry import Identity
from tests import factories


def identity(user) -> Identity:
    return Identity(user.pk, user.role) if user else Identity(None, None)


def switch(name: str, on: bool) -> None:
    """Turn a switch as an operator's SQL would (no API, no cache): what Postgres and the gate read."""
    from waffle.models import Switch

    assert Switch.objects.filter(name=name).update(active=on) == 1


@pytest.fixture
def community_on(db):
    switch("community", True)


def comment(order, author, *, status="pending", body="A moving reading.", role=None) -> Comment:
    """A comment written straight to the table (as the owner), in any state."""
    decided = None if status == "pending" else timezone.now()
    return Comment.objects.create(
        order=order,
        author=author,
        author_role=role or ("client" if author.pk == order.client_id else "reader"),
        body=body,
        body_sha256=Comment.sha256(body),
        status=status,
        decided_at=decided,
    )


@pytest.fixture
def thread(personas):
    """Two delivered readings: the client's with the reader (Alice's), the other client's with the other reader.

    On Alice's: the client's pending and approved comments, the reader's approved and hidden ones, and the
    other client's... none (not a party). On the other: one approved and one pending comment.
    """
    p = personas
    mine = factories.OrderFactory(client=p["client"], reader=p["reader"], status="delivered")
    theirs = factories.OrderFactory(client=p["other_client"], reader=p["other_reader"], status="delivered")
    undelivered = factories.OrderFactory(client=p["client"], reader=p["reader"], status="approved")
    comments = {
        "client_pending": comment(mine, p["client"]),
        "client_approved": comment(mine, p["client"], status="approved"),
        "reader_approved": comment(mine, p["reader"], status="approved"),
        "reader_hidden": comment(mine, p["reader"], status="hidden"),
        "theirs_approved": comment(theirs, p["other_client"], status="approved"),
        "theirs_pending": comment(theirs, p["other_reader"]),
    }
    reactions = [
        Reaction.objects.create(order=mine, user=p["client"], kind="heart"),
        Reaction.objects.create(order=mine, user=p["reader"], kind="thanks"),
        Reaction.objects.create(order=theirs, user=p["other_client"], kind="like"),
    ]
    return {"mine": mine, "theirs": theirs, "undelivered": undelivered, "comments": comments, "reactions": reactions}


def audited(action: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action).order_by("id"))


def events(name: str) -> list:
    return list(EventRaw.objects.filter(name=name).order_by("id"))


def state():
    """Everything a refused request must leave as it was."""
    return (
        list(Comment.objects.order_by("id").values()),
        list(Reaction.objects.order_by("id").values()),
        list(CommunityFlag.objects.order_by("id").values()),
        list(ModerationAction.objects.order_by("id").values()),
        list(Case.objects.order_by("id").values()),
        AuditEntry.objects.count(),
    )
