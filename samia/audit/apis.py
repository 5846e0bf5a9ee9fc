from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from samia.audit import minisign, selectors, services
from samia.audit import serializers as s
from samia.rls.access import Open, reads, writes
from samia.rls.registry import Identity
from samia.schema import error_responses


class SigningKeyMissing(APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "signing_unavailable"
    default_detail = "No audit signing key is configured."


class NewestSeqFirst(CursorPagination):
    ordering = "-seq"
    page_size = 50
    max_page_size = 200
    page_size_query_param = "page_size"


class AuditEntryListView(APIView):
    access = {"GET": reads("audit_auditentry")}

    @extend_schema(
        parameters=[s.EntryListQuerySerializer],
        responses={200: s.EntrySerializer(many=True), **error_responses(400, 401, 403)},
        summary="Audit entries you may read (admins: all; monitors: moderation), newest first",
    )
    def get(self, request):
        query = s.EntryListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        entries = selectors.entry_list(
            identity=Identity.of(request.user),
            actor_id=data.get("actor"),
            action=data.get("action"),
            target_type=data.get("target_type"),
            target_id=data.get("target_id"),
            outcome=data.get("outcome"),
            occurred_from=data.get("from"),
            occurred_to=data.get("to"),
        )
        paginator = NewestSeqFirst()
        page = paginator.paginate_queryset(entries, request, view=self)
        context = {"verified": selectors.entries_verify(page)}
        return paginator.get_paginated_response(s.EntrySerializer(page, many=True, context=context).data)


class AuditAttestView(APIView):
    access = {"POST": writes("audit_auditcheckpoint", "insert")}

    @extend_schema(
        request=None,
        responses={201: s.CheckpointSerializer, **error_responses(401, 403, 503)},
        summary="Sign the current head of the audit chain (admins)",
    )
    def post(self, request):
        try:
            checkpoint = services.checkpoint_sign(actor=Identity.of(request.user))
        except minisign.SigningUnavailable:
            raise SigningKeyMissing() from None
        return Response(s.CheckpointSerializer(checkpoint).data, status=status.HTTP_201_CREATED)


class AuditPublicKeyView(APIView):
    access = {"GET": Open("the audit public key is public: auditors check exports and checkpoints with it")}

    @extend_schema(
        responses={
            (200, "text/plain"): OpenApiResponse(OpenApiTypes.STR, description="a minisign public key file"),
            **error_responses(503),
        },
        summary="The audit signing public key, as a minisign .pub file",
        auth=[{}, {"jwtAuth": []}],
    )
    def get(self, request):
        try:
            key = minisign.configured_key()
        except minisign.SigningUnavailable:
            raise SigningKeyMissing() from None
        return HttpResponse(minisign.public_key_text(key), content_type="text/plain; charset=utf-8")
