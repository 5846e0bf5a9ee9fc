import datetime as dt
from zoneinfo import ZoneInfo

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import status
from rest_framework.response import Response

from samia.api import ApiView
from samia.marketplace import selectors, services
from samia.marketplace import serializers as s
from samia.marketplace.policies import ORDER_TABLE
from samia.marketplace.states import TRANSITIONS
from samia.rls.access import StateChange, reads, writes
from samia.schema import CURSOR_PARAMETERS, error_responses, paginated

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    description=(
        "Optional, one per order attempt (1-255 printable ASCII characters, e.g. a UUID), kept 24 hours per client: "
        "a retry with the same key and body returns the same order (201, `Idempotent-Replayed: true`), never a "
        "second one; the same key with another body is 409."
    ),
)


class OrderListView(ApiView):
    access = {"GET": reads(ORDER_TABLE), "POST": writes(ORDER_TABLE, "insert")}

    @extend_schema(
        parameters=[s.OrderListQuerySerializer, *CURSOR_PARAMETERS],
        responses={200: paginated(s.OrderSerializer), **error_responses(400, 401, 404)},
        summary="Orders you may see, newest first",
    )
    def get(self, request):
        query = self.parse(s.OrderListQuerySerializer, request.query_params)
        orders = selectors.order_list(identity=self.identity, status=query.get("status"))
        return self.paginated(s.OrderSerializer.rows(orders), s.OrderSerializer)

    @extend_schema(
        request=s.OrderCreateSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: s.OrderSerializer, **error_responses(400, 401, 403, 409)},
        summary="Order a reading (clients)",
    )
    def post(self, request):
        data = self.parse(s.OrderCreateSerializer, request.data)
        order, replayed = services.order_create_once(
            identity=self.identity,
            key=request.headers.get("Idempotency-Key"),
            service_code=data["service"],
            question=data["question"],
            is_gold=data["is_gold"],
        )
        headers = {"Idempotent-Replayed": "true"} if replayed else None
        return Response(s.OrderSerializer(order).data, status=status.HTTP_201_CREATED, headers=headers)


class OrderDetailView(ApiView):
    access = {"GET": reads(ORDER_TABLE)}

    @extend_schema(responses={200: s.OrderSerializer, **error_responses(401, 404)}, summary="One order")
    def get(self, request, order_id: int):
        order = selectors.order_get(identity=self.identity, order_id=order_id)
        return Response(s.OrderSerializer(order).data)


_TRANSITION_INPUT = {"assign": s.OrderAssignSerializer, "reject": s.OrderRejectSerializer}


def _transition_view(action: str):
    transition = TRANSITIONS[action]
    input_serializer = _TRANSITION_INPUT.get(action, s.EmptySerializer)

    class OrderTransitionView(ApiView):
        access = {"POST": StateChange(ORDER_TABLE, "status", tuple(transition.sources), transition.target)}

        @extend_schema(
            request=input_serializer,
            responses={200: s.OrderSerializer, **error_responses(400, 401, 403, 404, 409)},
            summary=f"{action.capitalize()} an order ({' / '.join(sorted(transition.roles))})",
            description=f"Moves the order from {' or '.join(transition.sources)} to {transition.target}.",
            operation_id=f"orders_{action}",
        )
        def post(self, request, order_id: int):
            data = self.parse(input_serializer, request.data)
            order = services.order_transition(
                identity=self.identity,
                order_id=order_id,
                action=action,
                reader_id=data.get("reader_id"),
                reason=data.get("reason", ""),
            )
            return Response(s.OrderSerializer(order).data)

    OrderTransitionView.__name__ = f"Order{action.capitalize()}View"
    return OrderTransitionView


ORDER_TRANSITION_VIEWS = {action: _transition_view(action) for action in TRANSITIONS}


class CallListView(ApiView):
    access = {"GET": reads("marketplace_call")}

    @extend_schema(
        parameters=[s.CallListQuerySerializer, *CURSOR_PARAMETERS],
        responses={200: paginated(s.CallSerializer), **error_responses(400, 401, 404)},
        summary="Calls you may see, newest first",
    )
    def get(self, request):
        query = self.parse(s.CallListQuerySerializer, request.query_params)
        calls = selectors.call_list(identity=self.identity, status=query.get("status"))
        return self.paginated(s.CallSerializer.rows(calls), s.CallSerializer)


class PaymentListView(ApiView):
    access = {"GET": reads("marketplace_payment")}

    @extend_schema(
        parameters=[s.PaymentListQuerySerializer, *CURSOR_PARAMETERS],
        responses={200: paginated(s.PaymentSerializer), **error_responses(400, 401, 403, 404)},
        summary="Payments you may see, newest first",
    )
    def get(self, request):
        query = self.parse(s.PaymentListQuerySerializer, request.query_params)
        payments = selectors.payment_list(identity=self.identity, status=query.get("status"))
        return self.paginated(s.PaymentSerializer.rows(payments), s.PaymentSerializer)


def _today_for(user) -> dt.date:
    zone = ZoneInfo(user.timezone) if getattr(user, "is_authenticated", False) else dt.UTC
    return timezone.now().astimezone(zone).date()


class HoroscopeDailyView(ApiView):
    access = {"GET": reads("marketplace_horoscope")}

    @extend_schema(
        parameters=[s.HoroscopeQuerySerializer],
        responses={
            200: inline_serializer("HoroscopeDailyList", {"results": s.HoroscopeSerializer(many=True)}),
            **error_responses(400),
        },
        summary="Approved daily horoscopes (anonymous: today only; readers: the last 60 days)",
        auth=[{}, {"jwtAuth": []}],
    )
    def get(self, request):
        query = self.parse(s.HoroscopeQuerySerializer, request.query_params)
        horoscopes = selectors.horoscope_daily_list(
            identity=self.identity,
            date=query.get("date") or _today_for(request.user),
            sign=query.get("sign"),
        )
        return Response({"results": s.HoroscopeSerializer(horoscopes, many=True).data})


class HoroscopeApproveView(ApiView):
    access = {"POST": StateChange("marketplace_horoscope", "approval_status", ("pending", "rejected"), "approved")}

    @extend_schema(
        request=None,
        responses={200: s.HoroscopeSerializer, **error_responses(401, 403, 404, 409)},
        summary="Approve a horoscope for publishing; 409 translation_unreviewed while a language is auto-translated",
    )
    def post(self, request, horoscope_id: int):
        horoscope = services.horoscope_approve(identity=self.identity, horoscope_id=horoscope_id)
        return Response(s.HoroscopeSerializer(horoscope).data)
