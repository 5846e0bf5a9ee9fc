"""Community writes: comments, reactions and flags by the parties of a delivered reading; moderation by staff.

Every write validates, acts under the caller's row-level security, audits ids and hashes only and
emits its event, in the caller's transaction. Cases are filed by a job (`cases_file`, run on
commit and every minute): a client cannot open a moderation case in their own name.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from community import tasks
from community.models import BODY_MAX_CHARACTERS, Comment, CommunityFlag, Reaction
from community.policies import COMMENTS, FLAGS
from community.selectors import comment_get
from moderation import selectors as moderation_selectors
from moderation import services as moderation_services
from samia import audit
from samia.events.services import emit
from samia.exceptions import Conflict
from samia.logging import PUBLISHED_REMOVED, scrub_text
from samia.marketplace import policies as marketplace_policies
from samia.marketplace import selectors as marketplace_selectors
from samia.marketplace.models import MediaAsset, Order
from samia.rls.registry import Identity

DELIVERED = "delivered"
SOURCE = "community"
# What a moderator's action does to the comment (escalate hands the case to admins and leaves it).
DECISIONS = {"approve": Comment.Status.APPROVED, "hide": Comment.Status.HIDDEN, "remove": Comment.Status.REMOVED}
ACTION_CODES = {
    "approve": "approve_comment",
    "hide": "hide_comment",
    "remove": "remove_comment",
    "escalate": "escalate",
}
# Flag evidence: references, never text. Media become media:<id>:<sha256>.
_EVIDENCE = re.compile(r"^(?:(comment|order|media):(\d{1,18})|([0-9a-f]{64}))$")


def _party_order(identity: Identity, order_id: int) -> Order:
    """Return the order `identity` is the client or reader of; anyone else gets No such order (404)."""
    order = marketplace_selectors.order_get(identity=identity, order_id=order_id)
    if identity.user_id not in (order.client_id, order.reader_id):
        raise Order.DoesNotExist("No such order.")
    return order


def _delivered(order: Order) -> None:
    if order.status != DELIVERED:
        raise Conflict("Only a delivered reading has a thread.", status=order.status)


def body_clean(body: str) -> str:
    """Return `body` scrubbed of emails, phone numbers and links; raise ValidationError when nothing is left or too long."""
    cleaned = scrub_text(body.strip(), published=True)
    if not cleaned.replace(PUBLISHED_REMOVED, "").strip():
        raise ValidationError({"body": ["Write something besides contact details and links."]})
    if len(cleaned) > BODY_MAX_CHARACTERS:
        raise ValidationError({"body": [f"Keep it to {BODY_MAX_CHARACTERS} characters."]})
    return cleaned


@transaction.atomic
def comment_post(*, identity: Identity, order_id: int, body: str) -> Comment:
    """Post a pending comment on a delivered reading one is party to; a job files it for moderation."""
    order = _party_order(identity, order_id)
    _delivered(order)
    cleaned = body_clean(body)
    role = Comment.AuthorRole.CLIENT if identity.user_id == order.client_id else Comment.AuthorRole.READER
    comment = Comment.objects.create(
        order=order, author_id=identity.user_id, author_role=role, body=cleaned, body_sha256=Comment.sha256(cleaned)
    )
    audit.record(
        action="community.comment.post",
        actor=identity,
        target=comment,
        details={"comment_id": comment.pk, "order_id": order.pk, "body_sha256": comment.body_sha256},
    )
    emit(
        "community.comment_posted",
        1,
        actor=identity,
        subject=comment,
        properties={"comment_id": comment.pk, "order_id": order.pk, "author_role": role},
    )
    transaction.on_commit(tasks.file_cases.delay, robust=True)  # the minute job files it if the broker is down
    return comment


@transaction.atomic
def reaction_add(*, identity: Identity, order_id: int, kind: str) -> tuple[Reaction, bool]:
    """Add one's reaction of `kind` to a delivered reading one is party to; return it and whether it is new."""
    if kind not in Reaction.Kind.values:
        raise ValidationError({"kind": [f"Choose one of {', '.join(Reaction.Kind.values)}."]})
    order = _party_order(identity, order_id)
    _delivered(order)
    existing = Reaction.objects.filter(order=order, user_id=identity.user_id, kind=kind).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            reaction = Reaction.objects.create(order=order, user_id=identity.user_id, kind=kind)
    except IntegrityError:  # the same reaction, sent twice at once
        return Reaction.objects.get(order=order, user_id=identity.user_id, kind=kind), False
    emit(
        "community.reaction_added",
        1,
        actor=identity,
        subject=order,
        properties={"order_id": order.pk, "kind": kind},
    )
    return reaction, True


_EVIDENCE_SCOPES = {
    "comment": (COMMENTS, Comment),
    "order": (marketplace_policies.ORDERS, Order),
    "media": (marketplace_policies.MEDIA, MediaAsset),
}


def evidence_clean(*, identity: Identity, evidence: list[str]) -> list[str]:
    """Return flag evidence as ids and sha256 only, media as media:<id>:<sha256>; refuse anything else.

    Each comment, order or media id must be one `identity` sees (400 otherwise, like an unknown reason).
    """
    cleaned = []
    for item in evidence:
        match = _EVIDENCE.match(item)
        if match is None:
            raise ValidationError({"evidence": ["Evidence is comment:<id>, order:<id>, media:<id> or a sha256."]})
        kind, number, digest = match.groups()
        if digest:
            cleaned.append(digest)
            continue
        # An id names something the reporter sees, like any id they send: else it is no such thing (one
        # answer for a missing row and a row of someone else's, so that evidence probes nothing).
        declaration, model = _EVIDENCE_SCOPES[kind]
        found = declaration.scope(model.objects.all(), identity).filter(pk=int(number)).first()
        if found is None:
            raise ValidationError({"evidence": [f"No such {kind}: {int(number)}."]})
        cleaned.append(f"media:{found.pk}:{found.sha256}" if kind == "media" else f"{kind}:{found.pk}")
    return cleaned


def _audited(evidence: list[str]) -> list[str]:
    """The audit trail holds codes of up to 64 characters: media:<id>:<sha256> goes in as media:<id> and the sha256."""
    return [part for item in evidence for part in (item.rsplit(":", 1) if item.startswith("media:") else [item])]


@transaction.atomic
def flag_raise(
    *, identity: Identity, comment_id: int, reason_code: str, evidence: list[str]
) -> tuple[CommunityFlag, bool]:
    """Report a comment of a thread one is party to; return the flag and whether it is new (a repeat is not)."""
    comment = comment_get(identity=identity, comment_id=comment_id)
    try:
        _party_order(identity, comment.order_id)
    except Order.DoesNotExist:
        raise Comment.DoesNotExist("No such comment.") from None
    if comment.author_id == identity.user_id:
        raise ValidationError({"comment_id": ["You may not flag your own comment."]})
    try:
        reason = moderation_selectors.reason_get(identity=identity, code=reason_code)
    except moderation_selectors.ReasonCode.DoesNotExist:
        raise ValidationError({"reason": ["Unknown or inactive reason code."]}) from None
    cleaned = evidence_clean(identity=identity, evidence=evidence)
    existing = FLAGS.scope(CommunityFlag.objects.all(), identity).filter(comment=comment).first()
    if existing is not None:
        return existing, False
    flag = CommunityFlag.objects.create(reporter_id=identity.user_id, comment=comment, reason=reason, evidence=cleaned)
    audit.record(
        action="community.flag.raise",
        actor=identity,
        target=flag,
        details={"flag_id": flag.pk, "comment_id": comment.pk, "reason": reason.code, "evidence": _audited(cleaned)},
    )
    emit(
        "community.flag_raised",
        1,
        actor=identity,
        subject=comment,
        properties={"flag_id": flag.pk, "comment_id": comment.pk, "reason": reason.code},
    )
    transaction.on_commit(tasks.file_cases.delay, robust=True)  # the minute job files it if the broker is down
    return flag, True


def _decided(*, identity: Identity, comment: Comment, status: str, decision: str, action_id: int | None) -> None:
    comment.status = status
    comment.decided_at = timezone.now()
    comment.decided_by_id = identity.user_id
    comment.save(update_fields=["status", "decided_at", "decided_by"])
    properties = {"comment_id": comment.pk, "order_id": comment.order_id, "decision": decision, "status": status}
    emit(
        "community.comment_decided",
        1,
        actor=identity,
        subject=comment,
        properties={**properties, "action_id": action_id},
    )


@transaction.atomic
def comment_moderate(
    *, identity: Identity, comment_id: int, action: str, reason_code: str, evidence: list[str]
) -> tuple[Comment, object]:
    """Approve, hide or remove a comment, or escalate its case (staff); file the action on the thread's case."""
    comment = comment_get(identity=identity, comment_id=comment_id, operation="update", lock=True)
    if comment.status == Comment.Status.REMOVED:
        raise Conflict("This comment is removed.", status=comment.status)
    target = DECISIONS.get(action)
    if target is not None and comment.status == target:
        raise Conflict(f"This comment is already {target}.", status=comment.status)
    order = marketplace_selectors.order_get(identity=identity, order_id=comment.order_id)
    previous = comment.status
    moderation_action = moderation_services.target_act(
        identity=identity,
        action=ACTION_CODES[action],
        target_type="comment",
        target_id=comment.pk,
        subject_id=comment.author_id,
        reason_code=reason_code,
        evidence=evidence,
        source=SOURCE,
        order=order,
    )
    if target is not None:
        _decided(identity=identity, comment=comment, status=target, decision=action, action_id=moderation_action.pk)
    audit.record(
        action=f"moderation.community.{action}",
        actor=identity,
        target=comment,
        details={
            "action_id": moderation_action.pk,
            "case_id": moderation_action.case_id,
            "comment_id": comment.pk,
            "reason": reason_code,
            "from": previous,
            "to": comment.status,
            "evidence": evidence,
        },
    )
    return comment, moderation_action


def comment_restore(*, identity: Identity, action) -> bool:
    """Put back a comment an overturned action hid or removed (moderation's appeal calls this); return whether it changed."""
    comment = comment_get(identity=identity, comment_id=action.target_id, operation="update", lock=True)
    if comment.status not in (Comment.Status.HIDDEN, Comment.Status.REMOVED):
        return False
    previous = comment.status
    _decided(
        identity=identity, comment=comment, status=Comment.Status.APPROVED, decision="restore", action_id=action.pk
    )
    audit.record(
        action="moderation.community.restore",
        actor=identity,
        target=comment,
        details={"action_id": action.pk, "comment_id": comment.pk, "from": previous, "to": comment.status},
    )
    return True
