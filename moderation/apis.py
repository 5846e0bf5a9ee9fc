"""The moderation API: parse the input, call one service, render the result."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers as drf
from rest_framework import status
from rest_framework.response import Response

from moderation import lineage, selectors, services
from moderation import serializers as s
from moderation.policies import ACTIONS_TABLE, APPEALS_TABLE, CASES_TABLE, LINEAGE_TABLE
from samia.api import ApiView
from samia.rls.access import InsertsRow, StateChange, reads, writes
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
        summary="Appeal a moderation action (its subject, or staff on their behalf)",
    )
    def post(self, request, action_id: int):
        data = self.parse(s.AppealOpenSerializer, request.data)
        appeal = services.appeal_open(identity=self.identity, action_id=action_id, statement=data["statement"])
        return Response(s.AppealSerializer(appeal).data, status=status.HTTP_201_CREATED)


class AppealResolveView(ApiView):
    access = {"POST": StateChange(APPEALS_TABLE, "status", ("open",), "decided")}

    @extend_schema(
        request=s.AppealResolveSerializer,
        responses={200: s.AppealSerializer, **error_responses(400, 401, 403, 404, 409)},
        summary="Decide an appeal: uphold, overturn (lifts the restriction) or modify (staff)",
    )
    def post(self, request, appeal_id: int):
        data = self.parse(s.AppealResolveSerializer, request.data)
        appeal = services.appeal_resolve(
            identity=self.identity,
            appeal_id=appeal_id,
            decision=data["decision"],
            rationale=data["rationale"],
        )
        return Response(s.AppealSerializer(appeal).data)


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
