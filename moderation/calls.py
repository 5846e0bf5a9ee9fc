"""Moderating a call: end it, flag it, or escalate its case.

Ending goes through the calls service (samia.marketplace.calls.call_moderate_end), which ends a
live call through the `calls` provider when one is configured and otherwise marks it for ending.
Every action is a ModerationAction on the call's case (opened on the first action) and audited.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction

from moderation.models import Case, ModerationAction
from moderation.policies import ACTIONS_TABLE
from moderation.services import Code, _case_escalate, _case_for, _reason
from samia import audit
from samia.marketplace import calls as marketplace_calls
from samia.marketplace import selectors as marketplace_selectors
from samia.rls.access import InsertsRow
from samia.rls.registry import Identity

# Route and service words: `end` is the action code end_call.
CALL_ACTION_CODES = {"end": Code.END_CALL, "flag": Code.FLAG, "escalate": Code.ESCALATE}


@transaction.atomic
def call_moderate(
    *, identity: Identity, call_id: int, action: str, reason_code: str, evidence: list[str], subject: str = "client"
) -> tuple[Case, ModerationAction]:
    """End a live call, flag it, or escalate its case; record the action on the call's case and audit it."""
    code = CALL_ACTION_CODES[action]
    if identity.role not in InsertsRow(ACTIONS_TABLE, "action", code).roles():
        raise PermissionDenied("Only admins end a call; flag or escalate it instead.")
    call = marketplace_selectors.call_get(identity=identity, call_id=call_id)
    reason = _reason(reason_code)
    previous = call.status
    if code == Code.END_CALL:
        call = marketplace_calls.call_moderate_end(identity=identity, call_id=call.pk)
    subject_id = call.reader_id if subject == "reader" else call.client_id
    case = _case_for(identity=identity, subject_id=subject_id, reason=reason, call=call)
    if code == Code.ESCALATE:
        _case_escalate(case)
    moderation_action = ModerationAction.objects.create(
        actor_id=identity.user_id,
        action=code,
        target_type=ModerationAction.TargetType.CALL,
        target_id=call.pk,
        subject_id=subject_id,
        reason=reason,
        evidence=evidence,
        case=case,
    )
    audit.record(
        action=f"moderation.call.{action}",
        actor=identity,
        target=call,
        details={
            "action_id": moderation_action.pk,
            "case_id": case.pk,
            "reason": reason.code,
            "from": previous,
            "to": call.status,
            "end_reason": call.end_reason,
            "evidence": evidence,
        },
    )
    return case, moderation_action
