"""Engagement reports from the apps: session starts and horoscope listens (both append to events_raw)."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle

from samia.api import ApiView
from samia.events import serializers as s
from samia.events import services
from samia.marketplace import selectors as marketplace
from samia.rls.access import writes
from samia.schema import error_responses

EVENTS_TABLE = "events_raw"

DEVICE_HEADER = OpenApiParameter(
    "X-Device-Id",
    str,
    OpenApiParameter.HEADER,
    description="Required without an account: a stable install or browser id (8-128 of A-Z a-z 0-9 . _ : -). "
    "Only its keyed hash is stored; it names the anonymous caller in the metrics.",
)
COUNTED = {
    201: s.CountedSerializer,
    200: s.CountedSerializer,
}


class EngagementThrottle(BaseThrottle):
    """Allow EVENTS_REQUESTS_PER_MINUTE reports per user (per address without an account) on each route."""

    def allow_request(self, request, view):
        user = request.user
        caller = f"u:{user.pk}" if user.is_authenticated else f"ip:{request.META.get('REMOTE_ADDR') or 'unknown'}"
        self.retry_after = services.request_retry_after(scope=view.rate_scope, caller=caller)
        return self.retry_after == 0

    def wait(self):
        return self.retry_after


def _answer(counted: bool) -> Response:
    return Response({"counted": counted}, status=status.HTTP_201_CREATED if counted else status.HTTP_200_OK)


class SessionStartView(ApiView):
    access = {"POST": writes(EVENTS_TABLE, "insert")}
    throttle_classes = [EngagementThrottle]
    rate_scope = "sessions"

    @extend_schema(
        request=s.SessionStartSerializer,
        parameters=[DEVICE_HEADER],
        responses={**COUNTED, **error_responses(400, 401, 429)},
        summary="Report that the app was opened (201 when it counts as a session; 200 within 30 minutes of the last)",
        auth=[{}, {"jwtAuth": []}],
    )
    def post(self, request):
        data = self.parse(s.SessionStartSerializer, request.data)
        counted = services.session_start(user=request.user, device_id=request.headers.get("X-Device-Id", ""), **data)
        return _answer(counted)


class HoroscopeListenView(ApiView):
    access = {"POST": writes(EVENTS_TABLE, "insert")}
    throttle_classes = [EngagementThrottle]
    rate_scope = "listens"

    @extend_schema(
        request=s.ListenSerializer,
        parameters=[DEVICE_HEADER],
        responses={**COUNTED, **error_responses(400, 401, 404, 429)},
        summary="Report how far a horoscope was listened to (201 when the day's highest percent rose; else 200)",
        auth=[{}, {"jwtAuth": []}],
    )
    def post(self, request, horoscope_id: int):
        data = self.parse(s.ListenSerializer, request.data)
        horoscope = marketplace.horoscope_get(identity=self.identity, horoscope_id=horoscope_id)
        counted = services.horoscope_listen(
            user=request.user, device_id=request.headers.get("X-Device-Id", ""), horoscope=horoscope, **data
        )
        return _answer(counted)
