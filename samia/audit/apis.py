from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from samia.api import ApiView
from samia.audit import minisign, selectors, services
from samia.audit import serializers as s
from samia.rls.access import Open, reads, writes
from samia.schema import CURSOR_PARAMETERS, error_responses, paginated


class AuditEntryListView(ApiView):
    access = {"GET": reads("audit_auditentry")}

    @extend_schema(
        parameters=[s.EntryListQuerySerializer, *CURSOR_PARAMETERS],
        responses={200: paginated(s.EntrySerializer), **error_responses(400, 401, 403, 404)},
        summary="Audit entries you may read (admins: all; monitors: moderation), newest first",
    )
    def get(self, request):
        data = self.parse(s.EntryListQuerySerializer, request.query_params)
        entries = selectors.entry_list(
            identity=self.identity,
            actor_id=data.get("actor"),
            action=data.get("action"),
            target_type=data.get("target_type"),
            target_id=data.get("target_id"),
            outcome=data.get("outcome"),
            occurred_from=data.get("from"),
            occurred_to=data.get("to"),
        )
        return self.paginated(
            entries,
            s.EntrySerializer,
            ordering="-seq",
            max_page_size=200,
            context=lambda page: {"verified": selectors.entries_verify(page)},
        )


class AuditAttestView(ApiView):
    access = {"POST": writes("audit_auditcheckpoint", "insert")}

    @extend_schema(
        request=None,
        responses={201: s.CheckpointSerializer, **error_responses(401, 403, 503)},
        summary="Sign the current head of the audit chain (admins)",
    )
    def post(self, request):
        checkpoint = services.checkpoint_sign(actor=self.identity)
        return Response(s.CheckpointSerializer(checkpoint).data, status=status.HTTP_201_CREATED)


class AuditPublicKeyView(ApiView):
    access = {"GET": Open("the audit public key is public: auditors check exports and checkpoints with it")}

    @extend_schema(
        responses={
            (200, "text/plain"): OpenApiResponse(OpenApiTypes.STR, description="a minisign public key file"),
            **error_responses(400, 404, 503),
        },
        parameters=[s.PublicKeyQuerySerializer],
        summary="The audit signing public key (or, with key_id, any earlier one), as a minisign .pub file",
        auth=[{}, {"jwtAuth": []}],
    )
    def get(self, request):
        key_id = self.parse(s.PublicKeyQuerySerializer, request.query_params).get("key_id")
        if key_id:  # every key that ever signed stays published: old exports still verify
            key = minisign.published_keys().get(key_id.upper())
            if key is None:
                raise NotFound("No audit signing key has this id.")
        else:
            key = services.signing_key()
        return HttpResponse(minisign.public_key_text(key), content_type="text/plain; charset=utf-8")
