"""The moderation API: parse the input, call one service, render the result."""

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers as drf
from rest_framework import status
from rest_framework.exceptions import AuthenticationFailed, Throttled
from rest_framework.response import Response

from moderation import appeals, calls, lineage, selectors, services
from moderation import serializers as s
from moderation.policies import ACTIONS_TABLE, APPEALS_TABLE, CASES_TABLE, LINEAGE_TABLE
from samia.accounts.backends import AccountBlocked, LoginThrottled, client_ip, credentials_check
from samia.api import ApiView
from samia.exceptions import Conflict
from samia.rls.access import InsertsRow, Open, StateChange, reads, writes
from samia.rls.binding import bound
from samia.rls.registry import Identity
from samia.schema import CURSOR_PARAMETERS, error_responses, paginated

ModerateOrderResult = inline_serializer(
    "ModerateOrderResult",
    {
        "order_id": drf.IntegerField(),
        "order_status": drf.CharField(),
        "case": s.CaseSerializer(),
        "actions": s.ActionSerializer(many=True),
    },
)
ModerateCallResult = inline_serializer(
    "ModerateCallResult",
    {
        "call_id": drf.IntegerField(),
        "call_status": drf.CharField(),
        "end_reason": drf.CharField(help_text="moderation_end_requested: marked for ending (no calls provider)."),
        "case": s.CaseSerializer(),
        "action": s.ActionSerializer(),
    },
)
ACTION_ID = OpenApiParameter("action_id", int, OpenApiParameter.PATH, description="The moderation action's id.")
APPEAL_ID = OpenApiParameter("appeal_id", int, OpenApiParameter.PATH, description="The appeal's id (not the action's).")


class BlockUserView(ApiView):
    access = {"POST": InsertsRow(ACTIONS_TABLE, "action", "block")}

    @extend_schema(
        request=s.BlockSerializer,
        responses={201: s.ActionSerializer, **error_responses(400, 401, 403, 404)},
        summary="Block a user now, for a duration or indefinitely (monitor, admin, superadmin)",
    )
    def post(self, request):
        data = self.parse(s.BlockSerializer, request.data)
        action = services.user_block(
            identity=self.identity,
            user_id=data["user_id"],
            reason_code=data["reason"],
            duration=data["duration"],
            evidence=data["evidence"],
        )
        return Response(s.ActionSerializer(action).data, status=status.HTTP_201_CREATED)


class UnblockUserView(ApiView):
    access = {"POST": InsertsRow(ACTIONS_TABLE, "action", "unblock")}

    @extend_schema(
        request=s.UnblockSerializer,
        responses={201: s.ActionSerializer, **error_responses(400, 401, 403, 404, 409)},
        summary="Lift a user's block (admin, superadmin)",
    )
    def post(self, request):
        data = self.parse(s.UnblockSerializer, request.data)
        action = services.user_unblock(
            identity=self.identity,
            user_id=data["user_id"],
            reason_code=data["reason"],
            evidence=data["evidence"],
        )
        return Response(s.ActionSerializer(action).data, status=status.HTTP_201_CREATED)


class ModerateOrderView(ApiView):
    access = {"POST": writes(ACTIONS_TABLE, "insert")}

    @extend_schema(
        request=s.ModerateOrderSerializer,
        responses={201: ModerateOrderResult, **error_responses(400, 401, 403, 404, 409)},
        summary="Hold, unlist or release an order, remove its media, or escalate its case (staff)",
    )
    def post(self, request, order_id: int):
        data = self.parse(s.ModerateOrderSerializer, request.data)
        case, actions = services.order_moderate(
            identity=self.identity,
            order_id=order_id,
            action=data["action"],
            reason_code=data["reason"],
            evidence=data["evidence"],
            subject=data["subject"],
        )
        order = case.order
        order.refresh_from_db(fields=["status"])
        body = {
            "order_id": order.pk,
            "order_status": order.status,
            "case": s.CaseSerializer(case).data,
            "actions": s.ActionSerializer(actions, many=True).data,
        }
        return Response(body, status=status.HTTP_201_CREATED)


class CaseQueueView(ApiView):
    access = {"GET": reads(CASES_TABLE)}

    @extend_schema(
        parameters=[s.CaseQuerySerializer, *CURSOR_PARAMETERS],
        responses={200: paginated(s.CaseSerializer), **error_responses(400, 401, 403, 404)},
        summary="The moderation queue: unresolved cases, oldest due first (staff)",
    )
    def get(self, request):
        query = self.parse(s.CaseQuerySerializer, request.query_params)
        cases = selectors.case_queue(
            identity=self.identity,
            status=query.get("status"),
            reason=query.get("reason"),
            source=query.get("source"),
            team=query.get("team"),
            assignee_id=query.get("assignee"),
            subject_id=query.get("subject"),
        )
        return self.paginated(cases, s.CaseSerializer, ordering=("sla_due_at", "id"))


class AppealOpenView(ApiView):
    access = {"POST": writes(APPEALS_TABLE, "insert")}

    @extend_schema(
        request=s.AppealOpenSerializer,
        responses={201: s.AppealSerializer, **error_responses(400, 401, 404, 409)},
        parameters=[ACTION_ID],
        summary="Appeal a moderation action (its subject, or staff on their behalf)",
        description="The path names the ACTION appealed (`/monitor/appeals/{action_id}/open`); the answer's `id` "
        "is the new appeal's, which `/monitor/appeals/{appeal_id}/resolve` and `GET /monitor/appeals/{appeal_id}` take.",
    )
    def post(self, request, action_id: int):
        data = self.parse(s.AppealOpenSerializer, request.data)
        appeal = appeals.appeal_open(identity=self.identity, action_id=action_id, statement=data["statement"])
        return Response(s.AppealSerializer(appeal).data, status=status.HTTP_201_CREATED)


class AppealView(ApiView):
    access = {"GET": reads(APPEALS_TABLE)}

    @extend_schema(
        responses={200: s.AppealSerializer, **error_responses(401, 404)},
        parameters=[APPEAL_ID],
        summary="An appeal, its action as it stands and any replacement (its subject, staff)",
        description="The path names the APPEAL (the `id` that opening it answered), not the action.",
    )
    def get(self, request, appeal_id: int):
        return Response(s.AppealSerializer(selectors.appeal_get(identity=self.identity, appeal_id=appeal_id)).data)


class AppealResolveView(ApiView):
    access = {"POST": StateChange(APPEALS_TABLE, "status", ("open",), "decided")}

    @extend_schema(
        request=s.AppealResolveSerializer,
        responses={200: s.AppealSerializer, **error_responses(400, 401, 403, 404, 409)},
        parameters=[APPEAL_ID],
        summary="Decide an appeal: uphold, overturn (lifts the restriction) or modify (changes it) (staff)",
        description="The path names the APPEAL (`/monitor/appeals/{appeal_id}/resolve`), not the action. "
        "`modify` takes exactly one change: `duration` on a block (its new length counted from the block's "
        "start; null = indefinite; a length already served ends the block now) or `action: hold` on an unlisting "
        "(the order comes back and is held; the hold is the answer's `replacement`).",
    )
    def post(self, request, appeal_id: int):
        data = self.parse(s.AppealResolveSerializer, request.data)
        appeal = appeals.appeal_resolve(
            identity=self.identity,
            appeal_id=appeal_id,
            decision=data["decision"],
            rationale=data["rationale"],
            modify=data["modify"],
        )
        return Response(s.AppealSerializer(appeal).data)


class AuthAppealView(ApiView):
    access = {"POST": Open("appeal of a block: the credentials are the identity")}

    @extend_schema(
        request=s.AuthAppealSerializer,
        responses={201: s.AppealSerializer, **error_responses(400, 401, 409, 429)},
        summary="Appeal the block on your account with your email and password (a blocked user has no token)",
        description="Limited and audited like POST /auth/token (the same failed-login limits). A wrong password "
        "is 401 as at login; an account that is not blocked, a block already appealed or one that cannot be "
        "appealed is 409.",
        auth=[],
    )
    def post(self, request):
        data = self.parse(s.AuthAppealSerializer, request.data)
        try:
            user = credentials_check(email=data["email"], password=data["password"], ip=client_ip(request))
        except LoginThrottled as throttled:
            raise Throttled(wait=throttled.retry_after, detail="Too many failed logins; try again later.") from None
        except AccountBlocked as blocked:
            request._request.commit_on_error = True  # keep the audit entry of the refused login
            if blocked.details.get("action_id") is None:
                raise Conflict("This block cannot be appealed.", status="blocked") from None
            # The password proved who this is; the appeal is opened in their own name, under RLS.
            with bound(Identity.of(blocked.user)) as binding:
                appeal = appeals.appeal_open(
                    identity=binding.identity, action_id=blocked.details["action_id"], statement=data["statement"]
                )
                body = s.AppealSerializer(appeal).data
            return Response(body, status=status.HTTP_201_CREATED)
        if user is None:
            request._request.commit_on_error = True  # keep the audit entry of the failure
            raise AuthenticationFailed("No active account matches these credentials.")
        raise Conflict("This account is not blocked.", status="active")


class ModerateCallView(ApiView):
    access = {"POST": writes(ACTIONS_TABLE, "insert")}

    @extend_schema(
        request=s.ModerateCallSerializer,
        responses={201: ModerateCallResult, **error_responses(400, 401, 403, 404, 409, 503)},
        summary="End a live call, flag it, or escalate its case (staff; ending: admins)",
        description="`end` ends the call through the calls provider when one is configured (answered: ended; "
        "scheduled or ringing: failed), otherwise marks it for ending (`end_reason` moderation_end_requested); "
        "409 when the call is over. `subject` (client or reader, default client) is who the action is about.",
    )
    def post(self, request, call_id: int):
        data = self.parse(s.ModerateCallSerializer, request.data)
        case, action = calls.call_moderate(
            identity=self.identity,
            call_id=call_id,
            action=data["action"],
            reason_code=data["reason"],
            evidence=data["evidence"],
            subject=data["subject"],
        )
        call = case.call
        call.refresh_from_db(fields=["status", "end_reason"])
        body = {
            "call_id": call.pk,
            "call_status": call.status,
            "end_reason": call.end_reason,
            "case": s.CaseSerializer(case).data,
            "action": s.ActionSerializer(action).data,
        }
        return Response(body, status=status.HTTP_201_CREATED)


class LineageRecomputeView(ApiView):
    access = {"POST": writes(LINEAGE_TABLE, "insert")}

    @extend_schema(
        request=s.LineageRecomputeSerializer,
        responses={200: s.LineageSerializer, **error_responses(400, 401, 403, 404)},
        summary="Rebuild a case's order <-> media <-> calls evidence graph from the rows that exist (staff)",
    )
    def post(self, request):
        data = self.parse(s.LineageRecomputeSerializer, request.data)
        edges = lineage.lineage_recompute(identity=self.identity, case_id=data["case_id"])
        return Response(s.LineageSerializer({"case_id": data["case_id"], "edges": edges}).data)
