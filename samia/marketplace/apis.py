import datetime as dt
from zoneinfo import ZoneInfo

from django.utils import timezone
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from samia.marketplace import selectors, services
from samia.marketplace import serializers as s
from samia.marketplace.policies import ORDER_TABLE
from samia.marketplace.states import TRANSITIONS
from samia.rls.access import StateChange, reads, writes
from samia.rls.registry import Identity
from samia.schema import error_responses


class NewestFirst(CursorPagination):
    ordering = "-id"
    page_size = 50
    max_page_size = 100
    page_size_query_param = "page_size"


def _query(serializer_class, request):
    query = serializer_class(data=request.query_params)
    query.is_valid(raise_exception=True)
    return query.validated_data


def _page(request, view, queryset, serializer_class):
    paginator = NewestFirst()
    page = paginator.paginate_queryset(serializer_class.rows(queryset), request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)


class OrderListView(APIView):
    access = {"GET": reads(ORDER_TABLE), "POST": writes(ORDER_TABLE, "insert")}

    @extend_schema(
        parameters=[s.OrderListQuerySerializer],
        responses={200: s.OrderSerializer(many=True), **error_responses(400, 401)},
        summary="Orders you may see, newest first",
    )
    def get(self, request):
        query = _query(s.OrderListQuerySerializer, request)
        orders = selectors.order_list(identity=Identity.of(request.user), status=query.get("status"))
        return _page(request, self, orders, s.OrderSerializer)

    @extend_schema(
        request=s.OrderCreateSerializer,
        responses={201: s.OrderSerializer, **error_responses(400, 401, 403)},
        summary="Order a reading (clients)",
    )
    def post(self, request):
        data = s.OrderCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order = services.order_create(
            identity=Identity.of(request.user),
            service_code=data.validated_data["service"],
            question=data.validated_data["question"],
            is_gold=data.validated_data["is_gold"],
        )
        return Response(s.OrderSerializer(order).data, status=status.HTTP_201_CREATED)


class OrderDetailView(APIView):
    access = {"GET": reads(ORDER_TABLE)}

    @extend_schema(responses={200: s.OrderSerializer, **error_responses(401, 404)}, summary="One order")
    def get(self, request, order_id: int):
        orders = selectors.order_list(identity=Identity.of(request.user)).select_related("service")
        order = orders.filter(pk=order_id).first()
        if order is None:
            raise NotFound("No such order.")
        return Response(s.OrderSerializer(order).data)


_TRANSITION_INPUT = {"assign": s.OrderAssignSerializer, "reject": s.OrderRejectSerializer}


def _transition_view(action: str):
    transition = TRANSITIONS[action]
    input_serializer = _TRANSITION_INPUT.get(action, s.EmptySerializer)

    class OrderTransitionView(APIView):
        access = {"POST": StateChange(ORDER_TABLE, "status", tuple(transition.sources), transition.target)}

        @extend_schema(
            request=input_serializer,
            responses={200: s.OrderSerializer, **error_responses(400, 401, 403, 404, 409)},
            summary=f"{action.capitalize()} an order ({' / '.join(sorted(transition.roles))})",
            description=f"Moves the order from {' or '.join(transition.sources)} to {transition.target}.",
            operation_id=f"orders_{action}",
        )
        def post(self, request, order_id: int):
            data = input_serializer(data=request.data)
            data.is_valid(raise_exception=True)
            order = services.order_transition(
                identity=Identity.of(request.user),
                order_id=order_id,
                action=action,
                reader_id=data.validated_data.get("reader_id"),
                reason=data.validated_data.get("reason", ""),
            )
            return Response(s.OrderSerializer(order).data)

    OrderTransitionView.__name__ = f"Order{action.capitalize()}View"
    return OrderTransitionView


ORDER_TRANSITION_VIEWS = {action: _transition_view(action) for action in TRANSITIONS}


class CallListView(APIView):
    access = {"GET": reads("marketplace_call")}

    @extend_schema(
        parameters=[s.CallListQuerySerializer],
        responses={200: s.CallSerializer(many=True), **error_responses(400, 401)},
        summary="Calls you may see, newest first",
    )
    def get(self, request):
        query = _query(s.CallListQuerySerializer, request)
        calls = selectors.call_list(identity=Identity.of(request.user), status=query.get("status"))
        return _page(request, self, calls, s.CallSerializer)


class PaymentListView(APIView):
    access = {"GET": reads("marketplace_payment")}

    @extend_schema(
        parameters=[s.PaymentListQuerySerializer],
        responses={200: s.PaymentSerializer(many=True), **error_responses(400, 401, 403)},
        summary="Payments you may see, newest first",
    )
    def get(self, request):
        query = _query(s.PaymentListQuerySerializer, request)
        payments = selectors.payment_list(identity=Identity.of(request.user), status=query.get("status"))
        return _page(request, self, payments, s.PaymentSerializer)


def _today_for(user) -> dt.date:
    zone = ZoneInfo(user.timezone) if getattr(user, "is_authenticated", False) else dt.UTC
    return timezone.now().astimezone(zone).date()


class HoroscopeDailyView(APIView):
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
        query = _query(s.HoroscopeQuerySerializer, request)
        horoscopes = selectors.horoscope_daily_list(
            identity=Identity.of(request.user),
            date=query.get("date") or _today_for(request.user),
            sign=query.get("sign"),
        )
        return Response({"results": s.HoroscopeSerializer(horoscopes, many=True).data})
